"""Mapping and normalising CRM cells: the values and the reasons a user gets back."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pandas as pd
import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from oneconnect_pipelines.crm import (
    ColumnMapping,
    MappingError,
    NormaliseOptions,
    NumberFormat,
    PhoneNormaliser,
    prepare,
)
from oneconnect_pipelines.crm.normalise import parse_birthdays, validate_rows
from oneconnect_pipelines.schemas import TEXT

TODAY = date(2025, 6, 1)
GE = NormaliseOptions(region="GE", today=TODAY)


def write(tmp_path: Path, content: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- phones
@pytest.mark.parametrize(
    ("raw", "e164", "national"),
    [
        ("0555123456", "995555123456", "0555123456"),
        ("555123456", "995555123456", "0555123456"),
        ("995555123456", "995555123456", "0555123456"),
        ("+995 555 12-34-56", "995555123456", "0555123456"),
        ("00995555123456", "995555123456", "0555123456"),
        ('="0555123456"', "995555123456", "0555123456"),
        ("(032) 2 12 34 56", "995322123456", "0322123456"),
        ("+49 151 23456789", "4915123456789", "004915123456789"),
        ("(+995) 555 12 34 56", "995555123456", "0555123456"),
        ("(+44) 20 7946 0958", "442079460958", "00442079460958"),
        ("+(995) 555-12-34-56", "995555123456", "0555123456"),
        ("0555–12–34–56", "995555123456", "0555123456"),
    ],
)
def test_phone_numbers_in_both_account_formats(raw: str, e164: str, national: str) -> None:
    assert PhoneNormaliser("GE", NumberFormat.E164_DIGITS).normalise(raw).number == e164
    assert PhoneNormaliser("GE", NumberFormat.NATIONAL_DIGITS).normalise(raw).number == national


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("123", "bad phone number: is too short"),
        ("5551234567890123", "bad phone number: is too long"),
        ("555 CALL ME", "bad phone number: holds letters"),
        ("0555 12 34 56 (mobile)", "bad phone number: holds letters"),
        ("=SUM(A1)", "bad phone number: holds letters"),
        (
            "0555123456;0555123457",
            "bad phone number: holds characters other than digits, spaces and +()-./",
        ),
        ("0111123456", "bad phone number: not a valid GE number"),
        ("   ", "no phone number"),
    ],
)
def test_impossible_phone_numbers_are_refused_with_a_reason(raw: str, reason: str) -> None:
    result = PhoneNormaliser("GE").normalise(raw)
    assert (result.number, result.reason) == (None, reason)


#: Regions whose international call prefix is 00, as default regions of the normaliser.
IDD_00 = ("GE", "GB", "DE", "FR", "IT", "ES", "NL", "PL", "TR", "UA", "IN", "CN")
#: Where the numbers come from: those regions, and a few with other national habits.
NUMBER_REGIONS = (*IDD_00, "US", "JP", "AU", "BR", "RU")


#: Every region phonenumbers knows, for properties that must hold wherever an account is.
ALL_REGIONS = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))


@st.composite
def valid_numbers(
    draw: st.DrawFn, regions: tuple[str, ...] = NUMBER_REGIONS
) -> phonenumbers.PhoneNumber:
    """A valid mobile or fixed-line number of some region: an example number with its
    last digits drawn anew, kept only while phonenumbers still calls it valid."""
    region = draw(st.sampled_from(regions))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.integers(min_value=0, max_value=9999))
    digits = national[:-4] + f"{tail:04d}" if len(national) > 5 else national
    number = phonenumbers.parse(f"+{example.country_code}{digits}")
    assume(phonenumbers.is_valid_number(number))
    return number


def _written(text: str, separator: str) -> str:
    return text.replace(" ", separator)


@settings(max_examples=300, deadline=None)
@given(
    number=valid_numbers(),
    default_region=st.sampled_from(IDD_00),
    shape=st.sampled_from(["e164", "00", "international", "parens", "national"]),
    separator=st.sampled_from([" ", "-", ".", "", " - ", "\u00a0", "–"]),
    excel=st.booleans(),
)
def test_every_way_a_crm_writes_a_valid_number_normalises_to_it(
    number: phonenumbers.PhoneNumber,
    default_region: str,
    shape: str,
    separator: str,
    excel: bool,
) -> None:
    """Spaces, dashes, dots, parentheses, 00, +, the national form with its trunk prefix
    (read with the number's own region as the default) and Excel's ="..." wrap."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    region = phonenumbers.region_code_for_number(number) or default_region
    if shape == "e164":
        text = e164
    elif shape == "00":
        text = "00" + _written(international[1:], separator)
    elif shape == "international":
        text = _written(international, separator)
    elif shape == "parens":
        code, _, rest = international.partition(" ")
        text = f"({code}) " + _written(rest, separator)
    else:
        text = _written(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), separator)
        default_region = region
    if excel:
        text = f'="{text}"'
    result = PhoneNormaliser(default_region).normalise(text)
    assert (result.number, result.reason) == (e164[1:], None), text


@settings(max_examples=400, deadline=None)
@given(
    number=valid_numbers(ALL_REGIONS),
    at_home=st.booleans(),
    elsewhere=st.sampled_from(ALL_REGIONS),
    number_format=st.sampled_from(list(NumberFormat)),
)
def test_a_number_the_sync_stored_keys_as_itself_in_every_region(
    number: phonenumbers.PhoneNumber,
    at_home: bool,
    elsewhere: str,
    number_format: NumberFormat,
) -> None:
    """normalise -> store -> key: what the account holds after a sync matches the same
    CRM row on the next run (a German account must not read its stored 4915... as a
    German national number), so a file synced twice makes no write the second time."""
    region = (phonenumbers.region_code_for_number(number) if at_home else None) or elsewhere
    phones = PhoneNormaliser(region, number_format)
    written = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    stored = phones.normalise(written).number
    assume(stored is not None)
    assert phones.key(stored) == stored


@settings(max_examples=300, deadline=None)
@given(number=valid_numbers(("DE", "AT", "IT", *NUMBER_REGIONS)))
def test_a_number_that_went_through_a_float_column_reads_as_the_integer_it_holds(
    number: phonenumbers.PhoneNumber,
) -> None:
    """``301234567.0``: the ``.0`` a float column adds is never read as one more digit
    (in variable-length plans that is another valid number: an SMS to a stranger)."""
    region = phonenumbers.region_code_for_number(number) or "DE"
    phones = PhoneNormaliser(region)
    integer = phonenumbers.national_significant_number(number)
    for rendered in (f"{integer}.0", f"{integer}.00", f'="{integer}.0"'):
        assert phones.normalise(rendered) == phones.normalise(integer), rendered


@pytest.mark.parametrize("raw", ["301234567.5", "4930123456.25", "0555123456.1"])
def test_a_number_with_a_decimal_part_is_refused(raw: str) -> None:
    result = PhoneNormaliser("DE").normalise(raw)
    assert (result.number, result.reason) == (
        None,
        "bad phone number: has a decimal part (a value from a float column?)",
    )


def test_phone_result_repr_masks_the_number() -> None:
    assert "555123456" not in repr(PhoneNormaliser("GE").normalise("0555123456"))


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="'XX' is not a region"):
        PhoneNormaliser("XX")


# ----------------------------------------------------------------------------- birthdays
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1997-05-05", date(1997, 5, 5)),
        ("1997-05-05T00:00:00", date(1997, 5, 5)),
        ("05.05.1997", date(1997, 5, 5)),
        ("5.5.1997", date(1997, 5, 5)),
        ("13/01/1990", date(1990, 1, 13)),
        ("02/01/1990", date(1990, 1, 2)),
        ("29.02.2000", date(2000, 2, 29)),
        ("35065", date(1996, 1, 1)),
        ("35065.0", date(1996, 1, 1)),
        ("1.1.1900", date(1900, 1, 1)),
    ],
)
def test_birthday_formats_day_first(raw: str, expected: date) -> None:
    days, reasons = parse_birthdays(pd.Series([raw], dtype=TEXT), month_first=False, today=TODAY)
    assert reasons.isna().all(), reasons.tolist()
    assert days.tolist() == [expected]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31.02.1990", "bad birthday: no such day"),
        ("29.02.2001", "bad birthday: no such day"),
        ("29/02/1900", "bad birthday: no such day"),
        ("2030-01-01", "bad birthday: in the future"),
        ("02.06.2025", "bad birthday: in the future"),
        ("31.12.1899", "bad birthday: before 1900"),
        ("01/13/1990", "bad birthday: month above 12 (read as DD/MM/YYYY)"),
        ("1990", "bad birthday: a year alone is not a date"),
        ("1850", "bad birthday: a year alone is not a date"),  # not the serial of a 1905 day
        ("9999-01-01", "bad birthday: in the future"),
        ("60", "bad birthday: Excel serial of a day that never was"),
        ("59", "bad birthday: a number too small to be a date"),
        ("999", "bad birthday: a number too small to be a date"),
        ("May 5th", "bad birthday: not a date in a known format"),
        ("05.05.97", "bad birthday: not a date in a known format"),
        # digits of other scripts (full-width): a reason, not a crash quoting the date
        ("１９９７-０５-０５", "bad birthday: not a date in a known format"),
        ("３５０６５", "bad birthday: not a date in a known format"),
        ("٠٥.٠٥.١٩٩٧", "bad birthday: not a date in a known format"),
    ],
)
def test_impossible_birthdays_are_refused(raw: str, reason: str) -> None:
    days, reasons = parse_birthdays(pd.Series([raw], dtype=TEXT), month_first=False, today=TODAY)
    assert days.isna().all()
    assert str(reasons.iloc[0]).startswith(reason)


SMALL_NUMBER = (
    "bad birthday: a number too small to be a date (Excel serials below 1000 are days in 1900-1902)"
)


def test_a_small_number_in_the_birthday_column_is_refused_not_read_as_a_day_in_1900(
    tmp_path: Path,
) -> None:
    """``35`` was stored as 1900-02-04 and ``7`` as 1900-01-07 (Excel serials): an age or
    a day of the month, never a birthday. Five-digit serials are still dates."""
    path = write(
        tmp_path,
        "Phone,DOB\n"
        "0555123451,35\n"
        "0555123452,7\n"
        "0555123453,999.0\n"
        "0555123454,1000\n"
        "0555123455,35065\n"
        "0555123456,2101\n",
    )
    rows, _ = prepare(path, ColumnMapping(), GE)
    assert rows.rows[["row", "birthday"]].values.tolist() == [
        [6, date(1996, 1, 1)],
        [7, date(1905, 10, 1)],
    ]
    reasons = dict(zip(rows.rejected["row"], rows.rejected["reason"], strict=True))
    assert reasons == {
        2: SMALL_NUMBER,
        3: SMALL_NUMBER,
        4: SMALL_NUMBER,
        5: "bad birthday: a year alone is not a date",
    }


def birthdays_of(values: list[str], month_first: bool | None = None) -> list[object]:
    """Each value's date, or its reason when it was rejected."""
    days, reasons = parse_birthdays(
        pd.Series(values, dtype=TEXT), month_first=month_first, today=TODAY
    )
    return [r if isinstance(r, str) else d for d, r in zip(days, reasons, strict=True)]


EITHER_WAY = "bad birthday: day and month could be either way round"


def test_the_column_says_which_number_is_the_day() -> None:
    """A day above 12 anywhere in the column settles the order of every slashed date."""
    us = birthdays_of(["12/25/1990", "05/06/1991", "01/02/1985"])
    assert us == [date(1990, 12, 25), date(1991, 5, 6), date(1985, 1, 2)]
    europe = birthdays_of(["25/12/1990", "05/06/1991", "1985-01-02"])
    assert europe == [date(1990, 12, 25), date(1991, 6, 5), date(1985, 1, 2)]


def test_a_date_the_column_cannot_settle_is_rejected_not_guessed() -> None:
    alone = birthdays_of(["05/06/1991", "05/05/1997", "29.02.2000"])
    assert str(alone[0]).startswith(EITHER_WAY + " (no date in the column has a day above 12)")
    assert alone[1:] == [date(1997, 5, 5), date(2000, 2, 29)]
    mixed = birthdays_of(["25/12/1990", "12/25/1990", "05/06/1991"])
    assert mixed[:2] == [date(1990, 12, 25), date(1990, 12, 25)]
    assert str(mixed[2]).startswith(EITHER_WAY + " (the column has both")


def test_a_configured_order_wins_and_dates_against_it_are_rejected() -> None:
    values = ["05/01/1990", "01/13/1990", "13/01/1990"]
    assert birthdays_of(values, month_first=True) == [
        date(1990, 5, 1),
        date(1990, 1, 13),
        "bad birthday: month above 12 (read as MM/DD/YYYY)",
    ]
    assert birthdays_of(values, month_first=False) == [
        date(1990, 1, 5),
        "bad birthday: month above 12 (read as DD/MM/YYYY)",
        date(1990, 1, 13),
    ]


@settings(max_examples=200, deadline=None)
@given(
    birthdays=st.lists(st.dates(date(1900, 1, 1), TODAY), min_size=1, max_size=12),
    month_first=st.booleans(),
)
def test_a_slashed_birthday_is_its_own_date_or_rejected_never_another(
    birthdays: list[date], month_first: bool
) -> None:
    """Whatever a CRM's order: no date is stored with day and month swapped, and a
    column with a day above 12 is read whole."""
    written = [d.strftime("%m/%d/%Y" if month_first else "%d/%m/%Y") for d in birthdays]
    got = birthdays_of(written)
    for birthday, result in zip(birthdays, got, strict=True):
        assert result == birthday or str(result).startswith(EITHER_WAY)
    if any(d.day > 12 for d in birthdays):
        assert got == birthdays


def test_month_first_from_the_mapping_unless_the_run_says_otherwise(tmp_path: Path) -> None:
    path = write(tmp_path, "Phone;Birthday\n0555123456;05/06/1991\n")
    (tmp_path / "mapping.yaml").write_text("month_first: true\n", encoding="utf-8")
    mapping = ColumnMapping.for_drop_folder(tmp_path)
    rows, _ = prepare(path, mapping, GE)
    assert rows.rows["birthday"].tolist() == [date(1991, 5, 6)]
    rows, _ = prepare(path, mapping, NormaliseOptions(month_first=False, today=TODAY))
    assert rows.rows["birthday"].tolist() == [date(1991, 6, 5)]
    rows, _ = prepare(path, ColumnMapping(), GE)
    assert str(rows.rejected["reason"].item()).startswith(EITHER_WAY)
    with pytest.raises(MappingError, match="'month_first' must be true"):
        ColumnMapping.from_dict({"month_first": "MM/DD"})


# ----------------------------------------------------------------------------- mapping
def test_default_headers_of_hubspot_and_salesforce_exports() -> None:
    hubspot = ColumnMapping().resolve(
        [
            "Record ID",
            "firstname",
            "lastname",
            "mobilephone",
            "phone",
            "email",
            "zip",
            "date_of_birth",
        ]
    )
    assert dict(hubspot.fields) == {
        "phone_number": ("mobilephone",),
        "email": ("email",),
        "first_name": ("firstname",),
        "last_name": ("lastname",),
        "birthday": ("date_of_birth",),
        "post_code": ("zip",),
    }
    assert hubspot.unused == ("Record ID", "phone")
    salesforce = ColumnMapping().resolve(
        [
            "FirstName",
            "LastName",
            "MobilePhone",
            "Birthdate",
            "MailingPostalCode",
            "OtherPhone",
            "HomePhone",
            "MailingCity",
            "MailingStreet",
        ]
    )
    assert salesforce.fields["additional_numbers"] == ("OtherPhone", "HomePhone")
    assert salesforce.fields["post_code"] == ("MailingPostalCode",)
    assert salesforce.unused == ()


def test_yaml_mapping_overrides_defaults_and_names_lists(tmp_path: Path) -> None:
    (tmp_path / "mapping.yaml").write_text(
        "lists: Newsletter\ncolumns:\n  phone_number: Handy\n  gender: null\n", encoding="utf-8"
    )
    mapping = ColumnMapping.for_drop_folder(tmp_path)
    assert mapping.lists == ("Newsletter",)
    resolved = mapping.resolve(["Handy", "Mobile", "Gender", "First Name"])
    assert dict(resolved.fields) == {"phone_number": ("Handy",), "first_name": ("First Name",)}
    assert resolved.unused == ("Mobile", "Gender")


def test_a_mapping_yaml_not_in_utf8_is_a_mapping_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "mapping.yaml").write_bytes("lists: [Kunden ä]\n".encode("latin-1"))
    with pytest.raises(MappingError, match=r"^mapping\.yaml: line 1 is not UTF-8"):
        ColumnMapping.for_drop_folder(tmp_path)


def test_missing_phone_column_is_a_clear_error() -> None:
    with pytest.raises(MappingError, match=r"export.csv has no phone number column.*'First Name'"):
        ColumnMapping().resolve(["First Name", "Email"], "export.csv")


def test_mapping_errors_name_the_source_and_key() -> None:
    with pytest.raises(MappingError, match=r"run config: columns.phone is not a contact field"):
        ColumnMapping.from_dict({"columns": {"phone": "Cell"}})
    with pytest.raises(MappingError, match=r"columns.phone_number names 'Cell'"):
        ColumnMapping.from_dict({"columns": {"phone_number": "Cell"}}).resolve(["Mobile"])


# ----------------------------------------------------------------------------- whole rows
def test_messy_rows_normalised_and_rejected_with_all_reasons(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Ána")
    path = write(
        tmp_path,
        "Mobile Phone;First Name;Last Name;E-mail Address;DOB;Sex;Zip;Other Phone;Street\n"
        f"0555123456;  {nfd} ;ბერიძე;Ana@Example.COM;29.02.2000;F;0105;"
        "555000111, 0555000112;=SUM(A1)\n"
        "995555123456;Dup;;;;;;;\n"
        "123;Bad;;not-an-email;31.02.1990;;;;\n"
        "555000333;Иван;王;;35065;male;;12;\n"
        "555000444;Zoë;;;;other;;;\n",
    )
    rows, resolved = prepare(path, ColumnMapping(), GE)
    accepted = rows.rows
    assert accepted["row"].tolist() == [2, 6]
    first = accepted.iloc[0]
    assert first["phone_number"] == "995555123456"
    assert first["first_name"] == "Ána" and unicodedata.is_normalized("NFC", first["first_name"])
    assert first["last_name"] == "ბერიძე"
    assert first["email"] == "ana@example.com"
    assert first["birthday"] == date(2000, 2, 29)
    assert first["gender"] == "Female"
    assert first["post_code"] == "0105"
    assert first["additional_numbers"] == "995555000111, 995555000112"
    assert first["street"] == "=SUM(A1)"
    assert pd.isna(accepted.iloc[1]["gender"])  # "other" has no OneConnect value: left empty

    reasons = dict(zip(rows.rejected["row"], rows.rejected["reason"], strict=True))
    assert reasons == {
        3: "duplicate phone number: same number as row 2",
        4: "bad phone number: is too short; bad e-mail: not like name@example.com; "
        "bad birthday: no such day",
        5: "bad additional number (number 1: is too short)",
    }
    assert rows.rejected.loc[rows.rejected["row"] == 3, "match_key"].item() == "9955******56"
    assert "123" not in "".join(rows.rejected["match_key"])
    assert set(rows.fields) == set(resolved.fields)


def test_national_account_format_keeps_leading_zeros_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "Phone\n+995555123456\n00995555123457\n")
    options = NormaliseOptions(number_format=NumberFormat.NATIONAL_DIGITS, today=TODAY)
    rows, _ = prepare(path, ColumnMapping(), options)
    assert rows.rows["phone_number"].tolist() == ["0555123456", "0555123457"]
    assert isinstance(rows.rows["phone_number"].dtype, pd.StringDtype)


def test_schema_failures_become_rejections_not_exceptions(tmp_path: Path) -> None:
    path = write(tmp_path, "Phone;Email\n0555123456;a@b.co\n0555123457;c@d.co\n")
    rows, _ = prepare(path, ColumnMapping(), GE)
    broken = rows.rows.copy()
    broken.loc[1, "email"] = "UPPER@CASE.CO"  # the contract says e-mails are lower-cased
    good, failed = validate_rows(broken)
    assert good["row"].tolist() == [2]
    assert failed["row"].tolist() == [3]
    assert failed["reason"].item().startswith("failed the CRM contract: email")


def test_a_row_whose_main_number_is_missing_or_bad_is_rejected_beside_its_other_numbers(
    tmp_path: Path,
) -> None:
    """A landline-only CRM row (no mobile, an Other Phone) crashed the whole file: its
    other numbers were compared with the missing main number. It is rejected; the rest
    are read."""
    path = write(
        tmp_path,
        "Mobile Phone,First Name,Other Phone\n"
        "555100001,Ann,\n"
        ",Bob,555100002\n"
        "555 1000,Cy,555100003\n",
    )
    rows, _ = prepare(path, ColumnMapping(), GE)
    assert rows.rows["row"].tolist() == [2]
    reasons = dict(zip(rows.rejected["row"], rows.rejected["reason"], strict=True))
    assert reasons == {3: "no phone number", 4: "bad phone number: not a valid GE number"}
