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


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A valid mobile or fixed-line number of some region: an example number with its
    last digits drawn anew, kept only while phonenumbers still calls it valid."""
    region = draw(st.sampled_from(NUMBER_REGIONS))
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
    days, reasons = parse_birthdays(pd.Series([raw], dtype=TEXT), today=TODAY)
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
        ("01/13/1990", "bad birthday: month above 12 (is the file month-first, MM/DD/YYYY?)"),
        ("1990", "bad birthday: a year alone is not a date"),
        ("60", "bad birthday: Excel serial of a day that never was"),
        ("May 5th", "bad birthday: not a date in a known format"),
        ("05.05.97", "bad birthday: not a date in a known format"),
    ],
)
def test_impossible_birthdays_are_refused(raw: str, reason: str) -> None:
    days, reasons = parse_birthdays(pd.Series([raw], dtype=TEXT), today=TODAY)
    assert days.isna().all()
    assert str(reasons.iloc[0]).startswith(reason)


def test_month_first_only_when_configured() -> None:
    values = pd.Series(["05/01/1990", "01/13/1990", "13/01/1990"], dtype=TEXT)
    days, reasons = parse_birthdays(values, month_first=True, today=TODAY)
    assert reasons.isna().all()
    assert days.tolist() == [date(1990, 5, 1), date(1990, 1, 13), date(1990, 1, 13)]
    days, _ = parse_birthdays(values, today=TODAY)
    assert days.tolist()[0] == date(1990, 1, 5)


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
