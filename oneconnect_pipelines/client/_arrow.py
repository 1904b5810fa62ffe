"""Listing pages straight into Arrow, by native code: no Python object per value.

Arrow's JSON reader reads rows of objects, not an array: the page's array becomes the one
field of one object (``{"page": [...]}``, a copy of the bytes), read into columns of the
contract's wire types in C++ without holding the GIL, so pages decode side by side while
the next ones download. (Splitting the array into lines first, with msgspec, cost 10%
more and held the GIL.) A page Arrow cannot read in the wire types (an id sent as text,
say) is decoded and each record converted by its wire struct, as the typed listing
reads it (numbers sent as text read as numbers), and made the same Arrow columns: the
frame builder names any value off its format, and a value of the wrong JSON type (a
list where text belongs, 1.5 as an id) is a ``ResponseError`` naming the record and the
field. An answer that is not an array raises the error it
stands for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeAlias

import httpx
import pyarrow
import pyarrow.json

from ._answers import read_record
from .errors import ResponseError
from .models import PageDecoder

#: A page in Arrow, in the wire types.
WirePage: TypeAlias = pyarrow.RecordBatch

#: The field a page's array is read as, and what its body is put in.
_PAGE = "page"
_OPENING, _CLOSING = b'{"' + _PAGE.encode() + b'":', b"}"


def arrow_page(
    response: httpx.Response,
    call: str,
    decode: Callable[[httpx.Response, str], Any],
    decoder: PageDecoder[Any],
    resource: str,
) -> WirePage:
    """One listing page in the wire types of ``decoder`` (records of ``resource``)."""
    body = b"".join((_OPENING, response.content, _CLOSING))
    try:
        read = pyarrow.json.read_json(
            pyarrow.py_buffer(body),
            read_options=_reading(len(body)),
            parse_options=_parsing(decoder.arrow, b"\n" in body),
        )
        column = read.column(_PAGE)
        if column.num_chunks != 1:  # one block (``_reading``) is read as one chunk
            raise pyarrow.ArrowInvalid("not one array")
        pages = column.chunk(0)
        records = pages.flatten()
        if len(pages) != 1 or pages.null_count or records.null_count:
            raise pyarrow.ArrowInvalid("not an array of objects")  # `null`, `[null]`
        return pyarrow.RecordBatch.from_struct_array(records)
    except pyarrow.ArrowInvalid:
        pass  # read the general way below, outside this except: no error chains a value
    answer = decode(response, call)  # raises the error an error answer stands for
    if not isinstance(answer, list):
        raise ResponseError(f"expected a JSON array, got {type(answer).__name__}", call=call)
    for place, record in enumerate(answer, start=1):
        if not isinstance(record, dict):
            raise ResponseError(
                f"expected JSON objects, got {type(record).__name__} as record {place}",
                call=call,
            )
    wired = [read_record(decoder.wire_record, record, resource, call) for record in answer]
    return pyarrow.RecordBatch.from_pylist(wired, schema=decoder.arrow)


def _reading(size: int) -> pyarrow.json.ReadOptions:
    """The whole page in one block (one object cannot straddle two)."""
    return pyarrow.json.ReadOptions(use_threads=False, block_size=max(size, 1 << 16))


@functools.cache
def _parsing(wire: pyarrow.Schema, newlines: bool) -> pyarrow.json.ParseOptions:
    """``newlines``: the body has some (pretty-printed JSON); reading as if it might costs
    6% more, so a compact body is read without."""
    page = pyarrow.schema([pyarrow.field(_PAGE, pyarrow.list_(pyarrow.struct(list(wire))))])
    return pyarrow.json.ParseOptions(
        explicit_schema=page, unexpected_field_behavior="ignore", newlines_in_values=newlines
    )


def wire_ids(page: WirePage) -> list[Any]:
    ids: list[Any] = page.column("id").to_pylist()
    return ids


def keep_wire(page: WirePage, mask: list[bool]) -> WirePage:
    return page.filter(pyarrow.array(mask))
