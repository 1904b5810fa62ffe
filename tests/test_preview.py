"""Previews in the asset catalog: safe to show, whatever shape the numbers come in."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from oneconnect_pipelines.preview import markdown_preview


@given(
    groups=st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=3, max_size=5),
    separator=st.sampled_from(["", " ", "-", ".", "\u00a0", "/"]),
    column=st.sampled_from(["phone_number", "destination", "recipients", "additional_numbers"]),
)
def test_a_preview_never_shows_a_number_in_its_phone_columns(
    groups: list[str], separator: str, column: str
) -> None:
    """The API keeps additional numbers, noncontact members and extra recipients as they
    were typed (+995 599 12 34 56): only runs of six digits used to be masked."""
    written = "+" + separator.join(groups)
    other = "995599000001"
    shown = markdown_preview(pd.DataFrame({column: [written, f"{written}, {other}"]}))
    cells = re.findall(r"^\| (.*\d.*?) +\|$", shown, flags=re.MULTILINE)
    assert len(cells) == 2, shown
    for cell, originals in zip(cells, ([written], [written, other]), strict=True):
        for masked, original in zip(cell.split(","), originals, strict=True):
            digits = sum(char.isdigit() for char in original)
            visible = sum(char.isdigit() for char in masked)
            assert visible <= (2 if digits <= 8 else 6), shown
