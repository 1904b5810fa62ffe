"""What every API section shares: paged listing, reconciled creates, form values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import msgspec

from oneconnect_pipelines.formats import format_birthday, join_ids

from ._pagination import Page, iter_pages
from ._transport import decode
from .errors import NotFoundError, OutcomeUnknownError, ResponseError, ValidationError
from .models import PageDecoder

if TYPE_CHECKING:
    from ._client import OneConnect

T = TypeVar("T")
Record = dict[str, Any]


class Section:
    def __init__(self, client: OneConnect) -> None:
        self._client = client
        self._transport = client._transport

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Raw pages of a collection, fetched ahead concurrently, in order."""
        call = f"GET {path}"
        return self._paged(path, params, lambda answer: _records(answer, call), _record_id)

    def _iter(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        parse: Callable[[Record], T] | PageDecoder[T],
    ) -> Iterator[T]:
        """Typed records of a collection, in order. A ``PageDecoder`` reads each page
        straight from its bytes; a body it cannot read is decoded the general way, so that
        an error answer raises its own exception, and else names the broken record."""
        call = f"GET {path}"
        if isinstance(parse, PageDecoder):
            decode_page = parse

            def convert(response: httpx.Response) -> list[T]:
                try:
                    return decode_page(response.content)
                except msgspec.MsgspecError as exc:
                    problem = exc
                _json_array(response, call)  # raises the error the answer stands for
                raise ResponseError(f"a record breaks the contract: {problem}", call=call)

        else:
            parse_one = parse

            def convert(response: httpx.Response) -> list[T]:
                return list(map(parse_one, _json_array(response, call)))

        pages = self._paged(path, params, convert, attrgetter("id"))
        for page in pages:
            yield from page

    def _paged(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        load: Callable[[httpx.Response], list[T]],
        id_of: Callable[[T], Any],
    ) -> Iterator[list[T]]:
        per_page = self._client.per_page
        base = {k: v for k, v in (params or {}).items() if v is not None}
        call = f"GET {path}"

        def fetch(page: int) -> httpx.Response:
            return self._transport.send(
                "GET", path, params={**base, "page": page, "per_page": per_page}
            )

        return iter_pages(
            fetch,
            load,
            per_page,
            id_of,
            executor=self._client._executor,
            concurrency=self._client.concurrency,
            stats=self._transport.stats,
            call=call,
        )

    def _create(
        self, path: str, data: Mapping[str, Any], find: Callable[[], Record | None]
    ) -> Record:
        """POST a new record. When the answer is lost, read back (``find``) before trying
        again, so a retry can never make a second record."""
        attempts = self._transport.retry.max_attempts
        lost: OutcomeUnknownError | None = None
        for _ in range(attempts):
            try:
                record: Record = self._transport.call(
                    "POST", path, data=dict(data), replay_safe=False
                )
                return record
            except OutcomeUnknownError as unknown:
                lost = unknown
            except ValidationError:
                if lost is None:
                    raise
                # "already taken": the lost attempt did take effect after all
            found = find()
            if found is not None:
                return found
        assert lost is not None
        raise lost

    def _delete(self, path: str) -> None:
        """DELETE is replayed on a lost answer; 'not found' on the replay means done."""
        try:
            self._transport.call("DELETE", path, replay_safe=False)
        except OutcomeUnknownError:
            try:
                self._transport.call("DELETE", path, replay_safe=True)
            except NotFoundError:
                return


def _json_array(response: httpx.Response, call: str) -> list[Record]:
    answer = decode(response, call)
    if not isinstance(answer, list):
        raise ResponseError(f"expected a JSON array, got {type(answer).__name__}", call=call)
    return answer


#: A record's values as the contract has them (two levels of nesting at most), with JSON
#: arrays as tuples. Tuples, not lists: CPython's cyclic garbage collector does not track
#: a dict whose values are all atomic (an empty tuple is), so most records never enter
#: it. With lists, every record is tracked, and a listing of 100,000 contacts spent
#: ~0.2 s in collections walking them (docs/benchmarks.md, "The client's listing").
_Scalar = str | int | float | bool | None
_Inner = _Scalar | tuple[_Scalar, ...] | dict[str, _Scalar | tuple[_Scalar, ...]]
_Value = _Scalar | tuple[_Scalar | dict[str, _Inner], ...] | dict[str, _Inner]
_RECORDS = msgspec.json.Decoder(list[dict[str, _Value]])


def _records(response: httpx.Response, call: str) -> Page:
    """A listing page: its JSON objects as dicts, their arrays as tuples. A page that does
    not fit ``_Value`` (deeper, or not objects) is decoded the general way: the error
    its answer stands for, or the same shape built in Python."""
    try:
        return _RECORDS.decode(response.content)
    except msgspec.MsgspecError:
        return list(map(_frozen, _json_array(response, call)))


def _frozen(value: Any) -> Any:
    """Decoded JSON with its arrays as tuples."""
    if isinstance(value, list):
        return tuple(map(_frozen, value))
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _record_id(record: Record) -> Any:
    return record.get("id")


def form_value(value: Any) -> str:
    """A Python value as the API's form field: booleans, dates, ids and numbers joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        raise TypeError("datetimes need the account timezone: format them in the section")
    if isinstance(value, date):
        return format_birthday(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return join_ids(sorted(value) if isinstance(value, (set, frozenset)) else value)
    return "" if value is None else str(value)


def form(fields: Mapping[str, Any]) -> dict[str, str]:
    return {name: form_value(value) for name, value in fields.items()}


def ids_of(values: Iterable[int | str]) -> list[int]:
    return [int(value) for value in values]
