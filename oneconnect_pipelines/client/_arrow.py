"""Listing pages straight into Arrow, by native code: no Python object per value.

msgspec splits the page's JSON array into its records' raw bytes (one C pass, nothing
parsed), and Arrow's JSON reader parses those lines into columns of the contract's wire
types (C++, without holding the GIL, so the next pages keep downloading meanwhile). A
page whose values do not have the wire types (an id sent as text, say) comes back as
its decoded records instead, for the frame builder to read field by field and name
what it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import httpx
import msgspec
import pyarrow
import pyarrow.json

from .errors import ResponseError

#: A page in Arrow, or (breaking the wire types) its records as decoded JSON.
WirePage: TypeAlias = pyarrow.RecordBatch | list[dict[str, Any]]
#: A page as a listing hands it over: as decoded, or converted into a table.
ArrowPage: TypeAlias = WirePage | pyarrow.Table

_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_READ = pyarrow.json.ReadOptions(use_threads=False, block_size=1 << 24)


def arrow_page(
    response: httpx.Response,
    call: str,
    decode: Callable[[httpx.Response, str], Any],
    wire: pyarrow.Schema,
) -> WirePage:
    """One listing page in ``wire``'s types."""
    try:
        records = _RAW.decode(response.content)
    except msgspec.MsgspecError:
        answer = decode(response, call)  # raises the error the answer stands for
        raise ResponseError(
            f"expected a JSON array, got {type(answer).__name__}", call=call
        ) from None
    if not records:
        return _empty(wire)
    parse = pyarrow.json.ParseOptions(explicit_schema=wire, unexpected_field_behavior="ignore")
    try:
        table = pyarrow.json.read_json(
            pyarrow.py_buffer(b"\n".join(records)), read_options=_READ, parse_options=parse
        )
    except pyarrow.ArrowInvalid:
        decoded: list[dict[str, Any]] = decode(response, call)
        return decoded
    return table.combine_chunks().to_batches()[0]


def _empty(wire: pyarrow.Schema) -> pyarrow.RecordBatch:
    return pyarrow.RecordBatch.from_pylist([], schema=wire)


def wire_ids(page: ArrowPage) -> list[Any]:
    if isinstance(page, pyarrow.RecordBatch | pyarrow.Table):
        ids: list[Any] = page.column("id").to_pylist()
        return ids
    return [record.get("id") for record in page]


def keep_wire(page: ArrowPage, mask: list[bool]) -> ArrowPage:
    if isinstance(page, pyarrow.RecordBatch | pyarrow.Table):
        return page.filter(pyarrow.array(mask))
    return [record for record, kept in zip(page, mask, strict=True) if kept]
