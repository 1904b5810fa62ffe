"""What every API section shares: paged listing, reading records, reconciled creates,
form values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from oneconnect_pipelines.formats import format_birthday, join_ids

from ._answers import UNREADABLE, read_id, read_record
from ._arrow import WirePage, arrow_page, keep_wire, wire_ids
from ._pagination import Listing, Page, keep_records, record_ids
from ._requester import Requester
from .errors import (
    NotFoundError,
    OneConnectError,
    OutcomeUnknownError,
    ResponseError,
    ValidationError,
)
from .models import PageDecoder

T = TypeVar("T")
Record = dict[str, Any]


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


#: A record a create makes: anything with an id.
R = TypeVar("R", bound=_Identified)


class Section:
    #: What one record of the section is called in errors (``"contact"``).
    resource = "record"

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def _one(self, build: Callable[[Any], T], method: str, path: str, **options: Any) -> T:
        """The record ``method path`` answers, built (``_read``)."""
        return self._read(build, self._requester.call(method, path, **options), f"{method} {path}")

    def _read(self, build: Callable[[Any], T], record: Any, call: str) -> T:
        """``build(record)``, or a ``ResponseError`` naming the record and the field it
        cannot read (``_answers.read_record``)."""
        return read_record(build, record, self.resource, call)

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Raw pages of a collection, fetched ahead concurrently, in order."""
        call = f"GET {path}"
        decode = self._requester.decode
        return self._requester.pages(
            path,
            params,
            lambda answer: _records(answer, call, decode),
            record_ids(_record_id),
            keep_records,
        )

    def _arrow_pages(
        self, path: str, params: Mapping[str, Any] | None, decoder: PageDecoder[Any]
    ) -> Listing[WirePage]:
        """Pages of a collection decoded straight into Arrow in the wire types of
        ``decoder``, on the decoder threads, side by side."""
        call = f"GET {path}"
        decode = self._requester.decode

        def load(answer: httpx.Response) -> WirePage:
            return arrow_page(answer, call, decode, decoder, self.resource)

        return self._requester.pages(path, params, load, wire_ids, keep_wire, native_load=True)

    def _iter(
        self, path: str, params: Mapping[str, Any] | None, decode_page: PageDecoder[T]
    ) -> Iterator[T]:
        """Typed records of a collection, in order, each page read straight from its
        bytes. A body that cannot be read so is decoded the general way, so that an
        error answer raises its own exception, and else read record by record, to name
        the one that breaks the contract and its field."""
        call = f"GET {path}"

        def read_one(record: Record) -> T:
            return decode_page.one(record, self.resource)

        def convert(response: httpx.Response) -> list[T]:
            try:
                return decode_page(response.content)
            except (msgspec.MsgspecError, *UNREADABLE):
                pass  # read below, outside this except: no error it raises chains a value
            return self._read_all(read_one, response, call)

        pages = self._requester.pages(
            path, params, convert, record_ids(attrgetter("id")), keep_records
        )
        for page in pages:
            yield from page

    def _read_all(
        self, build: Callable[[Record], T], response: httpx.Response, call: str
    ) -> list[T]:
        """A page's records, each built (``_read``)."""
        records = _json_array(response, call, self._requester.decode)
        return [self._read(build, record, call) for record in records]

    def _create(
        self,
        path: str,
        data: Mapping[str, Any],
        find: Callable[[], list[Record]],
        build: Callable[[Record], R],
        *,
        unique: bool,
        holds: Callable[[R], bool] = lambda record: True,
    ) -> R:
        """POST a new record so that it exists once, whatever answers are lost; the record,
        and every one read back, built by ``build`` (``_read``: never quoting a value).

        ``find`` reads back the records this create would match (same number, name, ...).
        After a lost answer it is read back before sending again. Where the server keeps
        the key unique (``unique``: contacts, lists, titles) a replay, or an original the
        server applies late, is refused as "already taken", so nothing can double; the
        record read back is this create's only if it ``holds`` what was sent (one that
        was there before, with other values, is refused as "already taken", as the
        lost answer would have said), and a replay refused for another reason (a plan's
        limit) raises that refusal. Else the matches that existed before the first attempt
        are noted, and after a replay every match made since is read back: the oldest is
        kept and the others deleted, so a create the server applied late still ends as
        one record."""
        call = f"POST {path}"

        def found() -> list[R]:
            return [self._read(build, record, call) for record in find()]

        lost: OutcomeUnknownError | None = None
        # the matches there before: only their ids count (one unreadable otherwise is no
        # reason to refuse this create)
        before = set() if unique else {read_id(r, self.resource, call) for r in find()}
        for _ in range(self._requester.retry.max_attempts):
            try:
                created: Record = self._requester.call(
                    "POST", path, data=dict(data), replay_safe=False
                )
            except OutcomeUnknownError as unknown:
                lost = unknown
            except ValidationError as refused:
                if lost is None or not unique or not _taken(refused):
                    raise  # nothing was there when the replay went out: a real refusal
                # "already taken": the lost attempt did take effect, or the record was there
            else:
                if lost is None or unique:
                    return self._read(build, created, call)
                return self._converge(path, found, before, lost) or self._read(build, created, call)
            mine = self._converge(path, found, before, lost)
            if mine is not None and unique and not holds(mine):
                raise ValidationError(
                    "already taken: the record found after a lost answer holds other values "
                    "than this create sent, so it is not this create's",
                    call=call,
                    errors=["already taken"],
                )
            if mine is not None:
                return mine
        assert lost is not None
        raise lost

    def _converge(
        self,
        path: str,
        found: Callable[[], list[R]],
        before: set[int],
        lost: OutcomeUnknownError,
    ) -> R | None:
        """The one record this create made (the oldest of those made since ``before``,
        the others deleted), or None when none is there yet."""
        try:
            mine = sorted((r for r in found() if r.id not in before), key=attrgetter("id"))
            for extra in mine[1:]:
                self._delete(f"{path}/{extra.id}")
        except OneConnectError as failed:
            raise OutcomeUnknownError(
                f"{lost.message}; reading it back failed too ({failed.message})", call=lost.call
            ) from failed
        return mine[0] if mine else None

    def _delete(self, path: str) -> None:
        """DELETE is replayed on a lost answer; 'not found' on the replay means done."""
        try:
            self._requester.call("DELETE", path, replay_safe=False)
        except OutcomeUnknownError:
            try:
                self._requester.call("DELETE", path, replay_safe=True)
            except NotFoundError:
                return


def _json_array(
    response: httpx.Response, call: str, decode: Callable[[httpx.Response, str], Any]
) -> list[Record]:
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


def _records(
    response: httpx.Response, call: str, decode: Callable[[httpx.Response, str], Any]
) -> Page:
    """A listing page: its JSON objects as dicts, their arrays as tuples. A page that does
    not fit ``_Value`` (deeper, or not objects) is decoded the general way: the error
    its answer stands for, or the same shape built in Python."""
    try:
        return _RECORDS.decode(response.content)
    except msgspec.MsgspecError:
        return list(map(_frozen, _json_array(response, call, decode)))


def _frozen(value: Any) -> Any:
    """Decoded JSON with its arrays as tuples."""
    if isinstance(value, list):
        return tuple(map(_frozen, value))
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


#: Ids as OneConnect sends them; any other value is compared by its JSON text.
_ID_TYPES = frozenset({int, str, type(None)})


def _record_id(record: Record) -> Any:
    """The key that spots a record repeated on a later page: its id, or for an id that is
    no scalar (a misbehaving server's object or array) its JSON text, which can be hashed."""
    value = record.get("id")
    return value if type(value) in _ID_TYPES else msgspec.json.encode(value)


def _taken(refused: ValidationError) -> bool:
    """A refusal because the record's key is in use ("Phone number has already been taken")."""
    return any("already been taken" in error for error in refused.errors)


def form_value(value: Any) -> str:
    """A Python value as the API's form field: booleans, dates, ids and numbers joined;
    text without its leading and trailing whitespace, as OneConnect stores it, so that a
    create's read-back finds the record by exactly what was sent."""
    if isinstance(value, str):
        return value.strip()
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
