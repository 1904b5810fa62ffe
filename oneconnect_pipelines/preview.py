"""Previews of tables that are safe to show: phone numbers, e-mails, birthdays masked."""

from __future__ import annotations

import pandas as pd

from .masking import mask_email, mask_numbers

#: Columns holding personal data, and how each is shown in a preview.
PHONE_COLUMNS = ("phone_number", "destination", "recipients", "additional_numbers")
EMAIL_COLUMNS = ("email",)
HIDDEN_COLUMNS = ("birthday", "street", "post_code")
#: Rows a preview shows.
PREVIEW_ROWS = 5


def masked(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with personal data masked (phone numbers however written, e-mail local
    parts) or hidden."""
    out = frame.copy()
    for column in out.columns:
        if column in PHONE_COLUMNS:
            out[column] = out[column].map(lambda v: v if pd.isna(v) else mask_numbers(str(v)))
        elif column in EMAIL_COLUMNS:
            out[column] = out[column].map(lambda v: v if pd.isna(v) else mask_email(str(v)))
        elif column in HIDDEN_COLUMNS:
            out[column] = out[column].map(lambda v: v if pd.isna(v) else "***")
    return out


def markdown_preview(frame: pd.DataFrame) -> str:
    """The first ``PREVIEW_ROWS`` rows as a Markdown table, masked."""
    if frame.empty:
        return "_no rows_"
    return str(masked(frame.head(PREVIEW_ROWS)).to_markdown(index=False))
