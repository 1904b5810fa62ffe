"""What every resource's records are built with: wire structs that mirror the JSON, the
page decoder that reads a listing's body into them, and the small readers they share."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar

import msgspec
import msgspec.inspect
import pyarrow

from oneconnect_pipelines.formats import FormatError

W = TypeVar("W", bound=msgspec.Struct)
T = TypeVar("T")


class Wire(msgspec.Struct, gc=False):
    """A record exactly as the JSON has it: the decoding target of a page."""


#: A whole number as Arrow and the tables hold it (a larger one breaks the contract).
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class PageDecoder(Generic[T]):
    """A listing page (the response body) -> typed records, through a wire struct.

    Lax (``strict=False``) so that numbers sent as text are still read; anything else
    that breaks the shape raises ``msgspec.ValidationError`` naming the path
    (``$[12].id``), which the caller turns into its own error.
    """

    def __init__(self, wire: type[W], build_page: Callable[[list[W]], list[T]]) -> None:
        self._decoder = msgspec.json.Decoder(list[wire], strict=False)  # type: ignore[valid-type]
        self._wire = wire
        self._build_page = build_page

    def __call__(self, body: bytes) -> list[T]:
        return self._build_page(self._decoder.decode(body))

    @functools.cached_property
    def arrow(self) -> pyarrow.Schema:
        """The Arrow schema of the wire struct: what a page is read into natively."""
        return arrow_schema(self._wire)

    def wire_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A decoded JSON record in the wire struct's types, as plain values (numbers sent
        as text read as numbers); ``msgspec.ValidationError`` naming the field whose value
        has no place in them."""
        values: dict[str, Any] = msgspec.to_builtins(
            msgspec.convert(record, self._wire, strict=False)
        )
        return values

    def one(self, record: Mapping[str, Any], what: str) -> T:
        """One decoded JSON record (lax, as pages are read), with a ``ShapeError`` naming
        ``what`` and the field if it breaks the wire struct's shape."""
        try:
            wire = msgspec.convert(record, self._wire, strict=False)
        except msgspec.ValidationError as exc:
            raise ShapeError(what, *shape_problem(exc)) from None
        return self._build_page([wire])[0]


class ShapeError(FormatError):
    """A JSON record that does not fit its wire struct: ``reason`` is msgspec's words
    (which quote no value), ``field`` the path of the value."""

    def __init__(self, what: str, reason: str, field: str | None) -> None:
        super().__init__(reason, field=field)
        self.what = what

    def __str__(self) -> str:
        at = f" at {self.field}" if self.field else ""
        return f"not a OneConnect {self.what}{at}: {self.reason}"


def shape_problem(problem: msgspec.ValidationError) -> tuple[str, str | None]:
    """msgspec's complaint as (why, the field's path): ``"Expected `int`, got `float` -
    at `$.id`"`` -> ``("Expected `int`, got `float`", "id")``; a missing field is the
    field itself (``schedule.type``)."""
    reason, _, path = str(problem).partition(" - at `$")
    path = path.removesuffix("`").removeprefix(".")
    missing = reason.removeprefix("Object missing required field `")
    if missing != reason:
        path = f"{path}.{missing[:-1]}" if path else missing[:-1]
    return reason, path or None


def each(build: Callable[[W], T]) -> Callable[[list[W]], list[T]]:
    """A record's builder as a page's builder."""
    return lambda wires: list(map(build, wires))


def arrow_schema(wire: type[msgspec.Struct]) -> pyarrow.Schema:
    """The Arrow schema of a wire struct, in its field order: the JSON reader's schema for
    a resource's pages, so its wire shape is declared once (the struct)."""
    return pyarrow.schema(_arrow_fields(msgspec.inspect.type_info(wire)))


def _arrow_fields(struct: Any) -> list[tuple[str, pyarrow.DataType]]:
    return [(field.encode_name, _arrow_type(field.type)) for field in struct.fields]


def _arrow_type(kind: Any) -> pyarrow.DataType:
    inspect = msgspec.inspect
    if isinstance(kind, inspect.UnionType):  # ``X | None``: nullable X, as every Arrow type
        (kind,) = [t for t in kind.types if not isinstance(t, inspect.NoneType)]
    if isinstance(kind, inspect.StructType):
        return pyarrow.struct(_arrow_fields(kind))
    if isinstance(kind, inspect.VarTupleType | inspect.ListType):
        return pyarrow.list_(_arrow_type(kind.item_type))
    return _SCALARS[type(kind)]


_SCALARS: dict[type[Any], pyarrow.DataType] = {
    msgspec.inspect.IntType: pyarrow.int64(),
    msgspec.inspect.StrType: pyarrow.string(),
    msgspec.inspect.BoolType: pyarrow.bool_(),
}
