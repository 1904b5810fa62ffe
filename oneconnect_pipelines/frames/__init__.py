"""API records -> typed DataFrames shaped as ``schemas`` declares.

The big tables (contacts, messages) are converted from Arrow pages a column at a time
(``records``); the small ones are laid out from the client's typed records (``small``).
Values the contract does not allow raise ``FrameError`` naming the table, field and
record ids.
"""

from __future__ import annotations

from ..schemas import DATE32
from .columns import FrameError, birthdays, ids, stamps, text
from .records import (
    CONVERT_MOST_ROWS,
    CONVERT_ROWS,
    contact_chunk,
    contacts_frame,
    message_chunk,
    messages_frame,
    tables,
    to_frame,
)
from .small import balance_frame, campaigns_frame, frame_of, lists_frames

__all__ = [
    "CONVERT_MOST_ROWS",
    "CONVERT_ROWS",
    "DATE32",
    "FrameError",
    "balance_frame",
    "birthdays",
    "campaigns_frame",
    "contact_chunk",
    "contacts_frame",
    "frame_of",
    "ids",
    "lists_frames",
    "message_chunk",
    "messages_frame",
    "stamps",
    "tables",
    "text",
    "to_frame",
]
