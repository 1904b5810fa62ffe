"""Masking of personal data before it reaches a log, an exception, a preview or a report."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d{6,}")
#: Dates as a birthday is written: 05.05.1997, 5/5/1997, 05-05-1997, 1997-05-05.
_DATES = re.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{1,2}-\d{1,2})(?!\d)")
_EMAILS = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+\.[^\s@\"'<>(),;:]+")


def mask_phone(number: str | None) -> str:
    """``"995551234521"`` -> ``"9955******21"``: enough to tell numbers apart, not to dial."""
    if not number:
        return ""
    text = str(number)
    if len(text) <= 4:
        return "*" * len(text)
    keep_start = 4 if len(text) >= 9 else 2
    return text[:keep_start] + "*" * (len(text) - keep_start - 2) + text[-2:]


def mask_digits(text: str) -> str:
    """Every run of six or more digits in free text (likely a phone number) masked."""
    return _DIGITS.sub(lambda match: mask_phone(match.group(0)), text)


def mask_email(email: str | None) -> str:
    """``"anna.smith@example.com"`` -> ``"a*********@example.com"``."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    return (local[:1] + "*" * max(len(local) - 1, 1) + at + domain) if at else mask_phone(email)


def mask_text(text: str) -> str:
    """Free text from elsewhere (a server's error answer, a log line) with whatever may be
    personal data masked: e-mail addresses, dates (birthdays) and digit runs (numbers)."""
    text = _EMAILS.sub(lambda match: mask_email(match.group(0)), text)
    text = _DATES.sub(lambda match: re.sub(r"\d", "*", match.group(0)), text)
    return mask_digits(text)
