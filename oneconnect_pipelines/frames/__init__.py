"""API records -> typed DataFrames shaped as ``schemas`` declares.

Columns are converted whole (Arrow compute, nullable dtypes); the few per-record steps
are plain extraction of nested fields. Values the contract does not allow raise
``FrameError`` naming the table, field and record ids.
"""

from __future__ import annotations

from .columns import CHUNK, DATE32, Fields, FrameError, birthdays, ids, stamps, text
from .records import (
    CONVERT_ROWS,
    contact_chunk,
    contacts_frame,
    contacts_of,
    message_chunk,
    messages_frame,
    messages_of,
    tables,
    to_frame,
)
from .small import (
    balance_frame,
    birthday_campaigns_frame,
    campaigns_frame,
    lists_frames,
    pricing_frame,
    templates_frame,
    titles_frame,
)

__all__ = [
    "CHUNK",
    "CONVERT_ROWS",
    "DATE32",
    "Fields",
    "FrameError",
    "balance_frame",
    "birthday_campaigns_frame",
    "birthdays",
    "campaigns_frame",
    "contact_chunk",
    "contacts_frame",
    "contacts_of",
    "ids",
    "lists_frames",
    "message_chunk",
    "messages_frame",
    "messages_of",
    "pricing_frame",
    "stamps",
    "tables",
    "templates_frame",
    "text",
    "titles_frame",
    "to_frame",
]
