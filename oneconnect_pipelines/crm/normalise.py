"""CRM cells -> contact values in OneConnect's terms, each bad cell a reason, not a crash.

Every row comes out either accepted (in a frame valid under ``CrmContactsSchema``) or
rejected with all its reasons at once, so a user fixes a file in one round. Columns
are converted whole; only phone numbers are parsed one distinct value at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pandera.pandas as pa

from ..formats import GENDERS
from ..masking import mask_phone
from ..schemas import DATE32, TEXT, CrmContactsSchema
from .mapping import CONTACT_FIELDS
from .phones import NumberFormat, PhoneNormaliser
from .read import ROW, Rejection

EARLIEST_BIRTHDAY = date(1900, 1, 1)

# (?a): \d is an ASCII digit only; a full-width or Arabic-Indic one is no date here
_ISO = (
    r"(?a)^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DOTTED = r"(?a)^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"
_SLASHED = r"(?a)^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})$"
_SERIAL = r"(?a)^(?P<n>\d{1,5})(?:\.0+)?$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Excel serials below this are days in 1900-1902, no living person's birthday (and up to
#: 60 Excel's days are one off other spreadsheets'): a number that small in a birthday
#: column is an age, a day of the month or a typo, never stored as a date
_SMALLEST_SERIAL = 1000
_NUMBER_SEPARATORS = re.compile(r"[,;|]")

_GENDER_WORDS = {
    "Male": ("m", "male", "man", "mr", "masculine", "boy", "männlich", "мужской", "м"),
    "Female": (
        "f",
        "female",
        "woman",
        "w",
        "mrs",
        "ms",
        "miss",
        "feminine",
        "girl",
        "weiblich",
        "женский",
        "ж",
    ),
}
GENDER_VALUES = {word: gender for gender, words in _GENDER_WORDS.items() for word in words}


@dataclass(frozen=True)
class NormaliseOptions:
    """Per-account and per-CRM settings that change how cells are read."""

    region: str = "GE"
    number_format: NumberFormat = NumberFormat.E164_DIGITS
    #: How ``a/b/YYYY`` birthdays are read: True month/day (US CRMs), False day/month;
    #: None (the default) decides from the column's own dates (``parse_birthdays``).
    month_first: bool | None = None
    #: "Today" for the no-future-birthdays rule; None means the real date (tests pin it).
    today: date | None = None

    def phones(self) -> PhoneNormaliser:
        return PhoneNormaliser(self.region, self.number_format)


@dataclass(frozen=True, repr=False)
class Normalised:
    """Accepted rows (``CrmContactsSchema``), rejected rows (``row``, ``match_key``
    masked, ``reason``), and which contact fields the file actually fed."""

    rows: pd.DataFrame
    rejected: pd.DataFrame
    fields: tuple[str, ...]
    #: Every row that was read, accepted or not: ``row``, ``phone_number`` (normalised,
    #: else the cell as written), ``email`` (lower-case) and ``phone_read`` (whether the
    #: number could be read): whom the row names, so that a rejected row's contact keeps
    #: its lists in mirror mode. Rows missing here are those the reader could not read.
    identities: pd.DataFrame = field(default_factory=lambda: _identities([], [], [], []))

    def __repr__(self) -> str:
        return f"Normalised(accepted={len(self.rows)}, rejected={len(self.rejected)})"


def normalise(
    mapped: pd.DataFrame,
    options: NormaliseOptions,
    *,
    fields: Sequence[str] = CONTACT_FIELDS,
    read_rejections: Iterable[Rejection] = (),
    phones: PhoneNormaliser | None = None,
) -> Normalised:
    """``mapped`` is ``Resolved.apply``'s frame: ``row`` plus one string column per field."""
    phones = phones or options.phones()
    read_rejections = tuple(read_rejections)
    frame = pd.DataFrame({ROW: mapped[ROW].astype("Int64").reset_index(drop=True)})
    reasons: list[pd.Series] = []

    raw_phone = _text(mapped["phone_number"])
    parsed = {value: phones.normalise(value) for value in raw_phone.dropna().unique()}
    phone = pd.Series(
        raw_phone.map(lambda v: parsed[v].number if v in parsed else None), dtype=TEXT
    ).reset_index(drop=True)
    phone_reason = pd.Series(
        raw_phone.map(lambda v: parsed[v].reason if v in parsed else "no phone number"),
        dtype=TEXT,
    ).reset_index(drop=True)
    reasons.append(phone_reason)
    reasons.append(_duplicates(frame[ROW], phone))
    frame["phone_number"] = phone

    email = _text(mapped["email"]).str.lower().reset_index(drop=True)
    bad_email = email.notna() & ~email.str.match(_EMAIL).fillna(False).astype(bool)
    reasons.append(_reason(bad_email, "bad e-mail: not like name@example.com"))
    frame["email"] = email

    for name in ("first_name", "last_name"):
        frame[name] = _text(mapped[name]).reset_index(drop=True)

    birthday, birthday_reason = parse_birthdays(
        _text(mapped["birthday"]).reset_index(drop=True),
        month_first=options.month_first,
        today=options.today or date.today(),
    )
    reasons.append(birthday_reason)
    frame["birthday"] = birthday

    for name in ("post_code", "city", "street"):
        frame[name] = _text(mapped[name]).reset_index(drop=True)

    extra, extra_reason = _additional_numbers(
        _text(mapped["additional_numbers"]).reset_index(drop=True), phone, phones
    )
    reasons.append(extra_reason)
    frame["additional_numbers"] = extra

    gender = _text(mapped["gender"]).reset_index(drop=True).str.casefold().map(GENDER_VALUES)
    frame["gender"] = pd.Categorical(gender, categories=list(GENDERS))

    reason = _join_reasons(reasons)
    match_key = phone.fillna(raw_phone.reset_index(drop=True).str.replace(r"\D", "", regex=True))
    rejected = pd.DataFrame(
        {
            ROW: frame[ROW],
            "match_key": match_key.map(mask_phone, na_action="ignore").astype(TEXT).fillna(""),
            "reason": reason,
        }
    )[reason.notna()]
    accepted = frame[reason.isna()].reset_index(drop=True)
    accepted, failed = validate_rows(accepted)
    read_rejected = pd.DataFrame(
        {
            ROW: pd.array([r.row for r in read_rejections], dtype="Int64"),
            "match_key": pd.array([""] * len(read_rejections), dtype=TEXT),
            "reason": pd.array([r.reason for r in read_rejections], dtype=TEXT),
        }
    )
    all_rejected = pd.concat([read_rejected, rejected, failed], ignore_index=True)
    all_rejected = all_rejected.sort_values(ROW, kind="stable").reset_index(drop=True)
    identities = _identities(
        frame[ROW], phone.fillna(raw_phone.reset_index(drop=True)), frame["email"], phone.notna()
    )
    used = tuple(f for f in CONTACT_FIELDS if f in fields)
    return Normalised(accepted, all_rejected, used, identities)


def validate_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``rows`` into those valid under ``CrmContactsSchema`` and rejections naming
    each failed column and check; one lazy pass finds every failure."""
    try:
        return CrmContactsSchema.validate(rows, lazy=True), _no_rejections()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        positional = cases[cases["index"].notna()]
        if len(positional) < len(cases):  # a whole-table failure: a bug here, not bad data
            raise
    bad_index = pd.Index(positional["index"].astype(int).unique())
    labels = positional.groupby(positional["index"].astype(int)).apply(
        lambda g: "; ".join(
            sorted(
                {
                    f"failed the CRM contract: {c} ({k})"
                    for c, k in zip(g["column"], g["check"], strict=True)
                }
            )
        ),
        include_groups=False,
    )
    failed = pd.DataFrame(
        {
            ROW: rows.loc[bad_index, ROW].to_numpy(),
            "match_key": rows.loc[bad_index, "phone_number"].map(mask_phone).to_numpy(),
            "reason": labels.reindex(bad_index).to_numpy(),
        }
    ).astype({ROW: "Int64", "match_key": TEXT, "reason": TEXT})
    good = rows.drop(index=bad_index).reset_index(drop=True)
    return CrmContactsSchema.validate(good, lazy=True), failed


def parse_birthdays(
    values: pd.Series, *, month_first: bool | None = None, today: date
) -> tuple[pd.Series, pd.Series]:
    """The one birthday parser, for one column: ISO ``YYYY-MM-DD``, ``DD.MM.YYYY``,
    ``DD/MM/YYYY`` or ``MM/DD/YYYY`` (the order as ``month_first`` says, else as the
    column shows: ``_read_slashed``) and Excel serial day numbers. -> (Arrow dates,
    reasons)."""
    values = values.astype(TEXT).reset_index(drop=True)
    year = pd.Series(pd.NA, index=values.index, dtype="Int64")
    month, day = year.copy(), year.copy()
    for pattern in (_ISO, _DOTTED):
        found = values.str.extract(pattern).astype("Int64")
        hit = found["y"].notna() & year.isna()
        year, month, day = (
            year.mask(hit, found["y"]),
            month.mask(hit, found["m"]),
            day.mask(hit, found["d"]),
        )
    slashed = values.str.extract(_SLASHED).astype("Int64")
    slash_month, slash_day, slash_reason = _read_slashed(slashed["a"], slashed["b"], month_first)
    hit = slashed["y"].notna() & year.isna()
    year, month, day = (
        year.mask(hit, slashed["y"]),
        month.mask(hit, slash_month),
        day.mask(hit, slash_day),
    )
    parts = pd.DataFrame({"year": year, "month": month, "day": day})
    valid_parts = parts.notna().all(axis=1) & (year >= EARLIEST_BIRTHDAY.year)
    calendar = pd.to_datetime(parts.where(valid_parts).astype("float"), errors="coerce")

    serial = values.str.extract(_SERIAL)["n"].astype("Int64")
    # four digits up to 2100 are a year (1850 as a serial would be a day in 1905)
    year_only = serial.between(1000, 2100).fillna(False).astype(bool)
    serial_ok = serial.notna() & ~year_only & (serial != 60) & (serial >= 1)
    offset = serial.where(serial >= 61, serial + 1)  # Excel counts a 29 Feb 1900 that never was
    # Only the serial rows are converted: turning the NaN-padded whole column into
    # nanoseconds made numpy warn of an overflow now and then.
    serial_rows = serial_ok.fillna(False).astype(bool).to_numpy()
    serial_dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    serial_dates[serial_rows] = _EXCEL_EPOCH + pd.to_timedelta(
        offset[serial_rows].astype("int64").to_numpy(), unit="D"
    )
    moment = calendar.where(calendar.notna(), serial_dates)

    given = values.notna()
    unknown = given & year.isna() & serial.isna()
    formats = "YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY, Excel serial"
    checks = [  # the first that applies is the row's reason
        _reason(unknown, f"bad birthday: not a date in a known format ({formats})"),
        _reason(year_only, "bad birthday: a year alone is not a date"),
        slash_reason,
        _reason(
            (serial == 0) | (serial == 60), "bad birthday: Excel serial of a day that never was"
        ),
        _reason(
            serial < _SMALLEST_SERIAL,
            f"bad birthday: a number too small to be a date (Excel serials below "
            f"{_SMALLEST_SERIAL} are days in 1900-1902)",
        ),
        _reason(year < EARLIEST_BIRTHDAY.year, "bad birthday: before 1900"),
        _reason(year > today.year, "bad birthday: in the future"),  # 9999: past pandas' days
        _reason(given & moment.isna(), "bad birthday: no such day"),
        _reason(moment > pd.Timestamp(today), "bad birthday: in the future"),
        _reason(moment < pd.Timestamp(EARLIEST_BIRTHDAY), "bad birthday: before 1900"),
    ]
    reason = pd.Series(pd.NA, index=values.index, dtype=TEXT)
    for why in checks:
        reason = reason.fillna(why)
    days = moment.where(reason.isna()).dt.date
    return pd.Series(days, dtype=DATE32), reason


def _read_slashed(
    first: pd.Series, second: pd.Series, month_first: bool | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(month, day, reason) of the ``a/b/YYYY`` dates of one column. The order is the
    configured one, else the column's own: a number above 12 can only be the day, so a
    ``25/12/1990`` makes the whole column day-first and a ``12/25/1990`` month-first.
    When the column tells neither (or both), ``05/06/1991`` is rejected, never guessed;
    a date that reads one way only (``25/12/1990``, ``05/05/1997``) is still taken."""
    day_first_seen = _any((first > 12) & (second <= 12))
    month_first_seen = _any((second > 12) & (first <= 12))
    if month_first is None and day_first_seen != month_first_seen:
        month_first = month_first_seen
    if month_first is not None:
        month, day = (first, second) if month_first else (second, first)
        order = "MM/DD/YYYY" if month_first else "DD/MM/YYYY"
        return month, day, _reason(month > 12, f"bad birthday: month above 12 (read as {order})")
    month_first_here = (second > 12).fillna(False).astype(bool)
    month, day = first.where(month_first_here, second), second.where(month_first_here, first)
    why = (
        "the column has both DD/MM/YYYY and MM/DD/YYYY dates"
        if day_first_seen
        else "no date in the column has a day above 12"
    )
    return (
        month,
        day,
        _reason(
            (first <= 12) & (second <= 12) & (first != second),
            f"bad birthday: day and month could be either way round ({why}); "
            "say which with month_first (mapping.yaml or the run config)",
        ),
    )


def _any(flags: pd.Series) -> bool:
    return bool(flags.fillna(False).astype(bool).any())


def _text(values: pd.Series) -> pd.Series:
    """Trimmed, NFC-normalised ``string`` values; blank means missing."""
    text = values.astype(TEXT).str.strip().str.normalize("NFC")
    return text.mask(text == "")


def _reason(flags: pd.Series, why: str) -> pd.Series:
    flags = flags.fillna(False).astype(bool)
    return pd.Series(why, index=flags.index, dtype=TEXT).where(flags)


def _join_reasons(reasons: list[pd.Series]) -> pd.Series:
    joined = pd.Series(pd.NA, index=reasons[0].index, dtype=TEXT)
    for reason in reasons:
        joined = (joined + "; " + reason).fillna(joined).fillna(reason)
    return joined


def _duplicates(rows: pd.Series, phone: pd.Series) -> pd.Series:
    """The file's first row with a number keeps it; each later one is rejected naming it
    (even when that first row is itself rejected for something else)."""
    first_row = rows.groupby(phone.to_numpy(), dropna=True).transform("first")
    first_row = first_row.reindex(rows.index).astype("Int64")
    duplicate = phone.notna() & phone.duplicated(keep="first") & phone.notna()
    text = "duplicate phone number: same number as row " + first_row.astype(TEXT)
    return text.where(duplicate).astype(TEXT)


def _additional_numbers(
    values: pd.Series, phone: pd.Series, phones: PhoneNormaliser
) -> tuple[pd.Series, pd.Series]:
    numbers: list[str | None] = []
    reasons: list[str | None] = []
    for value, main in zip(values.tolist(), phone.tolist(), strict=True):
        main = None if main is pd.NA else main  # a row without one is rejected for it
        if value is pd.NA or value is None:
            numbers.append(None)
            reasons.append(None)
            continue
        found: dict[str, None] = {}
        problem = None
        for position, part in enumerate(_NUMBER_SEPARATORS.split(str(value)), start=1):
            if not part.strip():
                continue
            result = phones.normalise(part)
            if result.number is None:
                detail = (result.reason or "").removeprefix("bad phone number: ")
                problem = f"bad additional number (number {position}: {detail})"
                break
            if result.number != main:
                found.setdefault(result.number)
        numbers.append(", ".join(found) or None if problem is None else None)
        reasons.append(problem)
    return pd.Series(numbers, dtype=TEXT), pd.Series(reasons, dtype=TEXT)


def _identities(
    rows: Iterable[object],
    phones: Iterable[object],
    emails: Iterable[object],
    phones_read: Iterable[bool],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ROW: pd.array(rows, dtype="Int64"),
            "phone_number": pd.array(phones, dtype=TEXT),
            "email": pd.array(emails, dtype=TEXT),
            "phone_read": pd.array(phones_read, dtype=bool),
        }
    )


def _no_rejections() -> pd.DataFrame:
    return pd.DataFrame(
        {
            ROW: pd.array([], dtype="Int64"),
            "match_key": pd.array([], dtype=TEXT),
            "reason": pd.array([], dtype=TEXT),
        }
    )
