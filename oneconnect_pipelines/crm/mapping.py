"""Which CRM column feeds which contact field, and which lists the rows belong to.

Headers are matched ignoring case, spaces, underscores, dashes and dots, so ``Mobile
Phone``, ``mobile_phone`` and ``MobilePhone`` are one name. An explicit mapping (YAML in
the drop folder or a dict from run config) wins over the defaults field by field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from ..formats import CONTACT_FIELDS as API_FIELDS
from ..schemas import TEXT
from ..storage import Location, location
from .read import ROW, column_list

MAPPING_FILE = "mapping.yaml"

#: The contact fields a CRM column can feed, the matching key (phone number) first.
CONTACT_FIELDS = ("phone_number", *(f for f in API_FIELDS if f != "phone_number"))

#: Headers recognised without configuration, best first: when a file has several
#: (``Mobile Phone`` and ``Phone``), the first one listed feeds the field. Covers plain
#: spreadsheets plus HubSpot (``mobilephone``, ``zip``, ``date_of_birth``) and
#: Salesforce (``MobilePhone``, ``Birthdate``, ``MailingPostalCode``) export headers.
DEFAULT_HEADERS: Mapping[str, tuple[str, ...]] = {
    "phone_number": (
        "Mobile Phone",
        "Mobile Phone Number",
        "Mobile",
        "Mobile Number",
        "Cell Phone",
        "Cell",
        "MSISDN",
        "Phone Number",
        "Phone",
        "Telephone",
        "Contact Phone",
    ),
    "email": ("Email", "E-mail", "Email Address", "E-mail Address", "Mail", "Work Email"),
    "first_name": ("First Name", "Given Name", "Firstname", "Forename"),
    "last_name": ("Last Name", "Surname", "Family Name", "Lastname"),
    "birthday": ("Date of Birth", "Birthday", "Birth Date", "Birthdate", "DOB"),
    "post_code": (
        "Post Code",
        "Postcode",
        "Postal Code",
        "Zip",
        "Zip Code",
        "Mailing Postal Code",
        "Mailing Zip/Postal Code",
    ),
    "city": ("City", "Town", "Mailing City"),
    "street": ("Street", "Street Address", "Address", "Mailing Street", "Address Line 1"),
    "additional_numbers": (
        "Additional Numbers",
        "Other Phone",
        "Home Phone",
        "Work Phone",
        "Business Phone",
    ),
    "gender": ("Gender", "Sex"),
}

#: Fields that may be fed by several columns at once (joined with ", ").
MULTI_COLUMN_FIELDS = frozenset({"additional_numbers"})

_NOISE = re.compile(r"[\s_\-.]+")


class MappingError(ValueError):
    """A mapping that cannot work with the file: names the source and the key."""


def header_key(name: str) -> str:
    """``"Mobile_Phone "`` -> ``"mobilephone"``: the form headers are compared in."""
    return _NOISE.sub("", name).casefold()


@dataclass(frozen=True)
class ColumnMapping:
    """Explicit choices (``columns``: field -> CRM column(s); ``None`` switches a field
    off) over the defaults, plus the target list name(s) of the export and, for a CRM
    that writes ``a/b/YYYY`` birthdays, which of ``a`` and ``b`` is the month."""

    columns: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    lists: tuple[str, ...] = ()
    use_defaults: bool = True
    source: str = "defaults"
    #: None: decided from each file's dates (``NormaliseOptions.month_first`` wins).
    month_first: bool | None = None

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], source: str = "run config") -> ColumnMapping:
        """``{"lists": [...], "columns": {field: column | [columns] | None}, "defaults":
        bool, "month_first": bool}``."""
        if not isinstance(config, Mapping):
            raise MappingError(f"{source}: a mapping must be a YAML/JSON object")
        unknown = set(config) - {"lists", "columns", "defaults", "month_first"}
        if unknown:
            raise MappingError(
                f"{source}: unknown key(s) {sorted(unknown)}; expected lists, columns, "
                "defaults, month_first"
            )
        columns: dict[str, tuple[str, ...] | None] = {}
        raw_columns = config.get("columns") or {}
        if not isinstance(raw_columns, Mapping):
            raise MappingError(f"{source}: 'columns' must map contact fields to CRM columns")
        for name, value in raw_columns.items():
            if name not in CONTACT_FIELDS:
                raise MappingError(
                    f"{source}: columns.{name} is not a contact field; "
                    f"fields are {', '.join(CONTACT_FIELDS)}"
                )
            columns[name] = _column_names(source, name, value)
        lists = config.get("lists") or ()
        if isinstance(lists, str):
            lists = (lists,)
        if not isinstance(lists, Sequence) or not all(
            isinstance(item, str) and item.strip() for item in lists
        ):
            raise MappingError(f"{source}: 'lists' must be a list name or a list of names")
        defaults = config.get("defaults", True)
        if not isinstance(defaults, bool):
            raise MappingError(f"{source}: 'defaults' must be true or false")
        month_first = config.get("month_first")
        if month_first is not None and not isinstance(month_first, bool):
            raise MappingError(
                f"{source}: 'month_first' must be true (MM/DD/YYYY) or false (DD/MM/YYYY)"
            )
        return cls(columns, tuple(item.strip() for item in lists), defaults, source, month_first)

    @classmethod
    def from_yaml(cls, path: str | Location) -> ColumnMapping:
        path = location(path)
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise MappingError(
                f"{path.name}: line {line} is not UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
                "save it as UTF-8"
            ) from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{path.name}: not valid YAML ({exc})") from None
        return cls.from_dict(config or {}, source=path.name)

    @classmethod
    def for_drop_folder(cls, folder: str | Location) -> ColumnMapping:
        """The folder's ``mapping.yaml`` when there is one, else the defaults."""
        path = location(folder) / MAPPING_FILE
        return cls.from_yaml(path) if path.is_file() else cls()

    def resolve(self, file_columns: Sequence[str], file_name: str = "the file") -> Resolved:
        """Pick the column(s) for each field from a file's header."""
        by_key: dict[str, str] = {}
        for column in file_columns:
            by_key.setdefault(header_key(column), column)
        chosen: dict[str, tuple[str, ...]] = {}
        taken: set[str] = set()
        for name, wanted in self.columns.items():
            if wanted is None:
                continue
            found = []
            for column in wanted:
                actual = column if column in file_columns else by_key.get(header_key(column))
                if actual is None:
                    raise MappingError(
                        f"{self.source}: columns.{name} names {column!r}, which {file_name} "
                        f"does not have; its columns are {column_list(file_columns)}"
                    )
                found.append(actual)
            chosen[name] = tuple(found)
            taken.update(found)
        if self.use_defaults:
            for name in CONTACT_FIELDS:
                if name in self.columns:
                    continue
                present = [
                    by_key[key]
                    for key in dict.fromkeys(header_key(h) for h in DEFAULT_HEADERS[name])
                    if key in by_key and by_key[key] not in taken
                ]
                if present:
                    picked = tuple(present) if name in MULTI_COLUMN_FIELDS else (present[0],)
                    chosen[name] = picked
                    taken.update(picked)
        if "phone_number" not in chosen:
            raise MappingError(
                f"{file_name} has no phone number column (looked for "
                f"{', '.join(DEFAULT_HEADERS['phone_number'])}); its columns are "
                f"{column_list(file_columns)}; name yours under columns.phone_number in "
                f"{MAPPING_FILE}"
            )
        ordered = {name: chosen[name] for name in CONTACT_FIELDS if name in chosen}
        unused = tuple(column for column in file_columns if column not in taken)
        return Resolved(ordered, unused)


@dataclass(frozen=True)
class Resolved:
    """A mapping applied to one header: the columns feeding each field, and the rest."""

    fields: Mapping[str, tuple[str, ...]]
    #: Columns of the file no field reads (reported, otherwise ignored).
    unused: tuple[str, ...]

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` as read (``CrmExport.frame``: indexed by ``row``) -> ``row`` plus one
        ``string`` column per contact field (all fields; unmapped ones are all <NA>, and
        ``fields`` says which were mapped)."""
        out = pd.DataFrame({ROW: frame.index.to_series(index=frame.index)})
        for name in CONTACT_FIELDS:
            sources = self.fields.get(name, ())
            if not sources:
                out[name] = pd.array([pd.NA] * len(frame), dtype=TEXT)
                continue
            column = _blank_to_na(frame[sources[0]])
            for extra in sources[1:]:
                more = _blank_to_na(frame[extra])
                column = (column + ", " + more).fillna(column).fillna(more)
            out[name] = column
        return out.reset_index(drop=True)


def _blank_to_na(values: pd.Series) -> pd.Series:
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype(TEXT)
    return text.mask(text.str.strip() == "")


def _column_names(source: str, name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else value
    if (
        not isinstance(names, Sequence)
        or not names
        or not all(isinstance(item, str) and item.strip() for item in names)
    ):
        raise MappingError(f"{source}: columns.{name} must be a column name or a list of them")
    if len(names) > 1 and name not in MULTI_COLUMN_FIELDS:
        raise MappingError(f"{source}: columns.{name} takes one column, not {len(names)}")
    return tuple(names)
