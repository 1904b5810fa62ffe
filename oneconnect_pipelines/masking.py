"""Masking of personal data before it reaches a log, an exception, a preview or a report."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote_plus

_DIGITS = re.compile(r"\d{6,}")
#: What groups a number's digits: spaces (no-break and thin ones too, not line breaks),
#: dashes of any width, dots, brackets, slashes, underscores.
_GROUP_SEPARATORS = "[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\u2010-\u2015\u2212().\\-/_]"
#: Digits written in groups: +995 555 12 34 56, (0555) 12-34-56, 0555.12.34.56,
#: 995/599/123/456; not inside a token such as a message reference (oc-7889-1234-...).
_GROUPED = re.compile(rf"(?<![\w-])\+?\(?\d(?:{_GROUP_SEPARATORS}{{1,3}}\d|\d)+(?![\w-])")
#: Digits a grouped number needs to be masked as one (a national number has 7 or more).
_GROUPED_DIGITS = 7
#: Dates as a birthday is written: 05.05.1997, 5/5/1997, 05-05-1997, 05.05.97, 5/5/97,
#: 1997-05-05, 1997/05/05, 1997.05.05, each perhaps with a time of day (1997-05-05
#: 00:00:00, 05/05/1997 10:00); not a part of a longer run of digit groups.
_DATES = re.compile(
    r"(?<!\d)(?<!\d[ ./-])(?:\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{1,2}([./])\d{1,2}\1\d{2}"
    r"|\d{4}([./-])\d{1,2}\2\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?(?!\d)(?![ ./-]\d)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
#: Dates with the month's English name: 5 June 1987, 5th Jun. 1987, June 5, 1987.
_NAMED_DATES = re.compile(
    rf"(?i)\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?)"
    r"\s+\d{4}\b"
)
#: An e-mail address, with or without a dot in its domain (anna@localhost).
_EMAILS = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+")
#: A URL's query in free text (a log line, an error naming its request), or a form body
#: (``name=value&...``, a server echoing the request it refused). Its values are
#: URL-encoded, which hides an e-mail's ``@`` (%40), a birthday's ``/`` (%2F) and the
#: spaces of a grouped number (``+``) from the patterns above: they are decoded first.
_QUERY = re.compile(
    r"((?<=\?)[^\s?#\"'<>]+"
    # a form: two fields or more, or a value URL-encoded (not ``phone=0555 12 34 56``)
    r"|(?<![^\s\"'(\[{,;])[A-Za-z_][\w.\[\]-]*=[^\s?#\"'<>]*(?:&|%[0-9A-Fa-f]{2})[^\s?#\"'<>]*)"
)
#: Characters a masked query value keeps as they are, so that a log line stays readable.
_READABLE = "*@.,/:-"


def mask_phone(number: str | None) -> str:
    """``"995551234521"`` -> ``"9955******21"``: enough to tell numbers apart, not to dial."""
    if not number:
        return ""
    text = str(number)
    if len(text) <= 4:
        return "*" * len(text)
    # a short number (a typo, a too-short row) shows its last two digits only: keeping
    # two at the start as well showed four of a five-digit number
    keep_start = 4 if len(text) >= 9 else 0
    return text[:keep_start] + "*" * (len(text) - keep_start - 2) + text[-2:]


def mask_digits(text: str) -> str:
    """Every run of six or more digits in free text (likely a phone number) masked."""
    return _DIGITS.sub(lambda match: mask_phone(match.group(0)), text)


def _mask_grouped(match: re.Match[str]) -> str:
    """A number written in groups, its digits masked as one number (separators dropped)
    when there are enough of them to be a phone number."""
    written = match.group(0)
    digits = re.sub(r"\D", "", written)
    if len(digits) < _GROUPED_DIGITS:
        return written
    return written[: written.index(digits[0])] + mask_phone(digits)  # keeps a "+" or "("


def mask_email(email: str | None) -> str:
    """``"anna.smith@example.com"`` -> ``"a*********@example.com"``."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    return (local[:1] + "*" * max(len(local) - 1, 1) + at + domain) if at else mask_phone(email)


def mask_text(text: str) -> str:
    """Free text from elsewhere (a server's error answer, a log line) with whatever may be
    personal data masked: e-mail addresses, dates (birthdays) and digit runs (numbers),
    also where they are URL-encoded in a query (``mask_query``)."""
    pieces = _QUERY.split(text)  # the queries at odd positions
    return "".join(
        mask_query(piece) if i % 2 else _mask_patterns(piece) for i, piece in enumerate(pieces)
    )


def mask_query(query: str) -> str:
    """A URL's query (``a=1&b=2``) with each value masked as the server would read it,
    URL-decoded: the personal fields by their name (a phone number of any length), any
    other like free text. A value with nothing to mask is left as it was written."""
    return "&".join(map(_mask_parameter, query.split("&")))


def _mask_parameter(parameter: str) -> str:
    name, equals, written = parameter.partition("=")
    if not equals:
        return _mask_patterns(parameter)
    value = unquote_plus(written)
    masked = _PERSONAL_PARAMETERS.get(unquote_plus(name), _mask_patterns)(value)
    return parameter if masked == value else f"{name}={quote(masked, safe=_READABLE)}"


def mask_numbers(numbers: str) -> str:
    """Comma-separated phone numbers, each masked by its digits whatever its length and
    however it is written (``+995 599-12-34-56`` -> ``9955******56``)."""
    return ",".join(
        mask_phone(re.sub(r"\D", "", number) or number.strip()) for number in numbers.split(",")
    )


def _mask_date(day: str) -> str:
    return re.sub(r"\d", "*", day)


def _mask_patterns(text: str) -> str:
    text = _EMAILS.sub(lambda match: mask_email(match.group(0)), text)
    text = _DATES.sub(lambda match: _mask_date(match.group(0)), text)
    text = _NAMED_DATES.sub(lambda match: _mask_date(match.group(0)), text)
    return mask_digits(_GROUPED.sub(_mask_grouped, text))


#: Query parameters of the API that carry personal data, and how each is masked.
_PERSONAL_PARAMETERS: dict[str, Callable[[str], str]] = {
    "phone_number": mask_numbers,
    "destination": mask_numbers,
    "additional_numbers": mask_numbers,
    "birthday": _mask_date,
}
