"""The one phone normaliser: any way a CRM writes a number -> the account's stored digits.

Both sides of a comparison go through it (CRM cells and the account's own numbers), so
``0555123456`` and ``995555123456`` are one number when the default region is GE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from ..masking import mask_phone

#: OneConnect keeps 6 to 15 digits per number.
MIN_DIGITS, MAX_DIGITS = 6, 15

#: What a written number may hold besides digits: whatever ``phonenumbers`` reads as
#: punctuation (spaces, dashes of any width, dots, slashes, parentheses, ``+`` anywhere
#: it can stand). Letters are refused before parsing: phonenumbers would read them as a
#: keypad's digits ("0555 12 34 56 (mobile)" is not a number with "662453" after it).
_ALLOWED = re.compile(r"^[\d\s+＋\-‐-―−ー－／\u00ad\u200b\u2060()（）［］\[\]./~⁓∼～]+$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="0555123456": Excel's way to keep a leading zero
#: ``301234567.0``: a number that went through a float column (pandas, a spreadsheet's
#: number format). Only zeros after the dot are that; one or two other digits make a
#: decimal number, not a phone number. A longer group after a single dot
#: (``030.1234567``) is a way to write a number, read as such.
_FLOAT = re.compile(r"^(?P<integer>\d+)\.(?P<fraction>0+|\d{1,2})$")
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    ValidationResult.TOO_SHORT: "is too short",
    ValidationResult.TOO_LONG: "is too long",
    ValidationResult.INVALID_LENGTH: "has an impossible length",
}


class NumberFormat(StrEnum):
    """How the account stores numbers: the form every number is written and compared in."""

    #: International digits without ``+``: ``995555123456``.
    E164_DIGITS = "e164_digits"
    #: Domestic digits with the trunk prefix: ``0555123456``. Numbers of other countries
    #: get the region's international call prefix: ``004915123456789``.
    NATIONAL_DIGITS = "national_digits"


@dataclass(frozen=True)
class PhoneResult:
    """A number in the account's format, or why there is none (``number`` is then None)."""

    number: str | None
    reason: str | None = None

    def __repr__(self) -> str:
        return f"PhoneResult({mask_phone(self.number)!r}, reason={self.reason!r})"


class PhoneNormaliser:
    """Parses with ``phonenumbers`` for a default region; caches every distinct input,
    since exports repeat numbers and parsing is the one per-value Python step."""

    def __init__(self, region: str, number_format: NumberFormat = NumberFormat.E164_DIGITS):
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{region!r} is not a region phonenumbers knows (like 'GE')")
        self.region = region
        self.number_format = NumberFormat(number_format)
        self._country_code = phonenumbers.country_code_for_region(region)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        self._trunk_prefix = (metadata.national_prefix if metadata else None) or ""
        international = (metadata.preferred_international_prefix if metadata else None) or (
            metadata.international_prefix if metadata else None
        )
        self._call_prefix = international if international and international.isdigit() else "00"
        self._cache: dict[str, PhoneResult] = {}

    def normalise(self, text: str | None) -> PhoneResult:
        if text is None:
            return PhoneResult(None, "no phone number")
        cached = self._cache.get(text)
        if cached is None:
            cached = self._cache[text] = self._parse(text)
        return cached

    def key(self, stored: str | None) -> str | None:
        """An account's stored number in comparable form. A number in the account's own
        format is its own key: read as a CRM cell, the stored ``4915123456789`` of a
        German account would be a German national number (``494915123456789``) and the
        next run would create it again. Any other shape (``0555123456`` in an account of
        ``9955...`` numbers) is read like a CRM cell; numbers the parser refuses are
        compared by their exact text, so they can still match a CRM row that has them."""
        if not stored:
            return None
        text = str(stored).strip()
        if self._written_by_format(text):
            return text
        return self.normalise(text).number or text

    def _written_by_format(self, text: str) -> bool:
        """Whether ``_format`` writes ``text`` for some valid number. Checked by undoing
        each prefix it may have put in front and formatting the number again, never by
        letting phonenumbers guess how digits without a ``+`` were meant."""
        if not text.isdigit():
            return False
        if self.number_format is NumberFormat.E164_DIGITS:
            written_as = ["+" + text]
        else:
            written_as = [f"+{self._country_code}{text.removeprefix(self._trunk_prefix)}"]
            if text.startswith(self._call_prefix):
                written_as.append("+" + text.removeprefix(self._call_prefix))
        return any(self.normalise(number).number == text for number in written_as)

    def _parse(self, text: str) -> PhoneResult:
        cleaned = text.strip()
        excel = _EXCEL_TEXT.match(cleaned)
        if excel:
            cleaned = excel.group(1).strip()
        if not cleaned:
            return PhoneResult(None, "no phone number")
        float_rendered = _FLOAT.match(cleaned)
        if float_rendered:
            if float_rendered["fraction"].strip("0"):
                return PhoneResult(
                    None, "bad phone number: has a decimal part (a value from a float column?)"
                )
            cleaned = float_rendered["integer"]  # the ".0" is the float's, not a digit
        if any(char.isalpha() for char in cleaned):
            return PhoneResult(None, "bad phone number: holds letters")
        if not _ALLOWED.match(cleaned):
            return PhoneResult(
                None, "bad phone number: holds characters other than digits, spaces and +()-./"
            )
        try:
            parsed = phonenumbers.parse(cleaned, self.region)
        except NumberParseException:
            return PhoneResult(None, "bad phone number: not a phone number")
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        if possible in _POSSIBLE_REASONS:
            return PhoneResult(None, f"bad phone number: {_POSSIBLE_REASONS[possible]}")
        if not phonenumbers.is_valid_number(parsed):
            where = phonenumbers.region_code_for_number(parsed) or f"+{parsed.country_code}"
            return PhoneResult(None, f"bad phone number: not a valid {where} number")
        number = self._format(parsed)
        if not MIN_DIGITS <= len(number) <= MAX_DIGITS:
            return PhoneResult(
                None,
                f"bad phone number: {len(number)} digits in the account's format, "
                f"OneConnect stores {MIN_DIGITS} to {MAX_DIGITS}",
            )
        return PhoneResult(number)

    def _format(self, parsed: phonenumbers.PhoneNumber) -> str:
        international = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)[1:]
        if self.number_format is NumberFormat.E164_DIGITS:
            return international
        if parsed.country_code == self._country_code:
            return self._trunk_prefix + phonenumbers.national_significant_number(parsed)
        return self._call_prefix + international
