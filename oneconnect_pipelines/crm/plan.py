"""The sync plan: every CRM row classified once against the account's current contacts.

Pure and deterministic (no HTTP): the same rows and contacts always give the same plan,
so a dry run and the real run agree. The account's contacts come in as raw API records
(``client.contacts.pages()`` flattened), not ``frames.contacts_frame``: that frame
refuses records with odd birthdays, and matching needs the stored number's exact text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from ..client._answers import read_id
from ..formats import CONTACT_TEXT_FIELDS, FormatError, parse_birthday
from ..masking import mask_email, mask_phone
from ..schemas import TEXT
from .normalise import GENDER_VALUES, Normalised, validate_rows
from .phones import PhoneNormaliser
from .read import ROW

OUTCOMES = ("create", "update", "unchanged", "rejected")
Value = str | date | list[str] | None


@dataclass(frozen=True)
class PlanOptions:
    #: An empty CRM cell clears the contact's value (only for columns the file has).
    erase_missing: bool = False
    #: The plan's ``contacts_limit`` (None: unlimited); creates beyond it are rejected.
    contacts_limit: int | None = None


class Changes(Mapping[str, Value]):
    """Field -> new value for one contact; ``None`` clears a field. Its repr masks the
    phone numbers, e-mail and birthday, so a printed plan leaks nothing."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return dict(self) == dict(other) if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = {key: _masked(key, value) for key, value in self._values.items()}
        return f"Changes({shown})"


@dataclass(frozen=True, repr=False)
class SyncPlan:
    """One row per file row: ``row``, ``match_key`` (masked), ``outcome``, ``reason``,
    ``contact_id`` and ``changes`` (``Changes`` for creates and updates, else None)."""

    rows: pd.DataFrame
    #: Ids of the account's contacts that some row of the file names by phone number or
    #: e-mail, whatever that row's outcome: mirror mode never removes them from a list.
    named: frozenset[int] = frozenset()
    #: Rows the reader could not read at all: whom they name is unknown, so mirror mode
    #: removes no member while the file has any.
    unread: tuple[int, ...] = ()
    #: Rows whose phone number could not be read (an export saved by a spreadsheet as
    #: ``9.95555E+11``, a note in the cell) and whose e-mail names no contact: whose they
    #: are is unknown too, so mirror mode removes no member while the file has any.
    unnamed: tuple[int, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """``rows`` and one count per outcome; the outcomes always add up to ``rows``."""
        tally = self.rows["outcome"].value_counts()
        return {"rows": len(self.rows), **{name: int(tally.get(name, 0)) for name in OUTCOMES}}

    def __repr__(self) -> str:
        return f"SyncPlan({self.counts})"


@dataclass
class _Contact:
    id: int
    phone: str | None
    values: dict[str, Any]


def plan_sync(
    crm: Normalised,
    contacts: Iterable[Mapping[str, Any]],
    phones: PhoneNormaliser,
    options: PlanOptions = PlanOptions(),
) -> SyncPlan:
    """Match each accepted row by phone number, then by e-mail, and diff the fields the
    file has. ``phones`` must be the normaliser the rows were normalised with."""
    rows, failed = validate_rows(crm.rows)  # rows built by hand get the same contract
    existing = [_comparable(record, phones) for record in contacts]
    by_phone: dict[str, list[int]] = {}
    by_email: dict[str, list[int]] = {}
    for position, contact in enumerate(existing):
        if contact.phone:
            by_phone.setdefault(contact.phone, []).append(position)
        if contact.values["email"]:
            by_email.setdefault(contact.values["email"], []).append(position)

    records = rows.to_dict("records")
    matched: dict[int, int | str] = {}  # record index -> contact position, or a reason
    claimed: dict[int, tuple[int, str]] = {}  # contact position -> (file row, matched by)
    # Phone matches claim contacts first: the number is the stronger key.
    for index, record in enumerate(records):
        hits = by_phone.get(record["phone_number"], [])
        if len(hits) > 1:
            ids = ", ".join(str(existing[h].id) for h in hits)
            matched[index] = f"conflicting matches: the phone number matches contacts {ids}"
        elif hits:
            mails = by_email.get(_none(record["email"]) or "", [])
            if mails and hits[0] not in mails:
                matched[index] = (
                    f"conflicting matches: the phone number matches contact "
                    f"{existing[hits[0]].id}, the e-mail contact {existing[mails[0]].id}"
                )
            else:
                matched[index] = hits[0]
                claimed[hits[0]] = (record[ROW], "phone number")
    # A rejected row's number names its contact too: no other row takes that contact over
    # by e-mail (fixing the rejected row later must never make a different row win).
    for row, phone in crm.identities[[ROW, "phone_number"]].itertuples(index=False):
        for position in by_phone.get(phone, []) if _none(phone) else []:
            claimed.setdefault(position, (int(row), "phone number"))
    for index, record in enumerate(records):
        if index in matched or _none(record["email"]) is None:
            continue
        mails = by_email.get(record["email"], [])
        if len(mails) > 1:
            ids = ", ".join(str(existing[m].id) for m in mails)
            matched[index] = f"conflicting matches: the e-mail matches contacts {ids}"
        elif mails and mails[0] in claimed:
            row, matched_by = claimed[mails[0]]
            matched[index] = (
                f"conflicting matches: the e-mail matches contact {existing[mails[0]].id}, "
                f"which row {row} matches by {matched_by}"
            )
        elif mails:
            matched[index] = mails[0]
            claimed[mails[0]] = (record[ROW], "e-mail")

    room = None if options.contacts_limit is None else options.contacts_limit - len(existing)
    out: list[tuple[int, str, str, str | None, int | None, Changes | None]] = []
    for index, record in enumerate(records):
        key = mask_phone(record["phone_number"])
        target = matched.get(index)
        if isinstance(target, str):
            out.append((record[ROW], key, "rejected", target, None, None))
        elif target is None:
            values = {f: v for f in crm.fields if (v := _value(f, record[f])) is not None}
            if room is not None and room <= 0:
                reason = f"plan limit reached: the account may hold {options.contacts_limit}"
                out.append((record[ROW], key, "rejected", reason + " contacts", None, None))
                continue
            room = None if room is None else room - 1
            out.append((record[ROW], key, "create", None, None, Changes(values)))
        else:
            contact = existing[target]
            diff = _diff(record, contact, crm.fields, options.erase_missing)
            outcome = "update" if diff else "unchanged"
            out.append(
                (record[ROW], key, outcome, None, contact.id, Changes(diff) if diff else None)
            )
    for table in (crm.rejected, failed):
        for row, key, reason in table[[ROW, "match_key", "reason"]].itertuples(index=False):
            out.append((int(row), str(_none(key) or ""), "rejected", str(reason), None, None))
    out.sort(key=lambda item: item[0])
    read = {int(row) for row in crm.identities[ROW]}
    unread = tuple(row for row, *_ in out if row not in read)
    frame = pd.DataFrame(
        {
            ROW: pd.array([o[0] for o in out], dtype="Int64"),
            "match_key": pd.array([o[1] for o in out], dtype=TEXT),
            "outcome": pd.Categorical([o[2] for o in out], categories=list(OUTCOMES)),
            "reason": pd.array([o[3] for o in out], dtype=TEXT),
            "contact_id": pd.array([o[4] for o in out], dtype="Int64"),
            "changes": pd.Series([o[5] for o in out], dtype=object),
        }
    )
    named = {existing[p].id for p in _named(crm.identities, by_phone, by_email)}
    unnamed = tuple(
        int(row)
        for row, read, email in crm.identities[[ROW, "phone_read", "email"]].itertuples(index=False)
        if not read and not by_email.get(_none(email) or "")
    )
    return SyncPlan(frame, frozenset(named), unread, unnamed)


def _named(
    identities: pd.DataFrame, by_phone: Mapping[str, list[int]], by_email: Mapping[str, list[int]]
) -> set[int]:
    """Positions of the contacts the rows name by phone number or e-mail."""
    found: set[int] = set()
    for phone, email in identities[["phone_number", "email"]].itertuples(index=False):
        found.update(by_phone.get(phone, ()) if _none(phone) else ())
        found.update(by_email.get(email, ()) if _none(email) else ())
    return found


def _diff(
    record: Mapping[str, Any], contact: _Contact, fields: Iterable[str], erase: bool
) -> dict[str, Value]:
    changes: dict[str, Value] = {}
    for name in fields:
        new = _value(name, record[name])
        if name == "phone_number":
            if new != contact.phone:  # matched by e-mail: the CRM has a new number
                changes[name] = new
            continue
        old = contact.values[name]
        if new is None:
            if erase and old is not None:
                changes[name] = None
            continue
        comparable = sorted(new) if isinstance(new, list) else new
        if comparable != old:
            changes[name] = new
    return changes


def _comparable(record: Mapping[str, Any], phones: PhoneNormaliser) -> _Contact:
    """An account contact in the same normal form as the CRM rows."""
    values: dict[str, Any] = {}
    for name in CONTACT_TEXT_FIELDS:
        values[name] = _clean(record.get(name))
    email = _clean(record.get("email"))
    values["email"] = email.lower() if email else None
    birthday = _clean(record.get("birthday"))
    try:
        values["birthday"] = parse_birthday(birthday) if birthday else None
    except FormatError:
        values["birthday"] = birthday  # unreadable: differs from any CRM date, so it is fixed
    gender = _clean(record.get("gender"))
    values["gender"] = GENDER_VALUES.get(gender.casefold(), gender) if gender else None
    numbers = record.get("additional_numbers") or []
    if isinstance(numbers, str):
        numbers = numbers.split(",")
    keys = {phones.key(str(n).strip()) for n in numbers if str(n).strip()}
    values["additional_numbers"] = sorted(k for k in keys if k) or None
    return _Contact(
        read_id(record, "contact"), phones.key(_clean(record.get("phone_number"))), values
    )


def _value(name: str, value: Any) -> Value:
    """A normalised cell as the value a write would send."""
    value = _none(value)
    if value is None:
        return None
    if name == "additional_numbers":
        return [part.strip() for part in str(value).split(",")]
    if isinstance(value, date):
        return value
    return str(value)


def _none(value: Any) -> Any:
    return None if value is None or value is pd.NA or value != value else value


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value).strip())
    return text or None


def _masked(key: str, value: Value) -> object:
    if value is None:
        return None
    if key == "phone_number":
        return mask_phone(str(value))
    if key == "additional_numbers":
        return [mask_phone(n) for n in value] if isinstance(value, list) else "***"
    if key == "birthday":
        return "**.**.****"
    if key == "email":
        return mask_email(str(value))
    return value
