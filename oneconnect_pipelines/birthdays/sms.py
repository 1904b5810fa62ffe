"""How a text travels as SMS: GSM-7 or UCS-2, how many parts, and what OneConnect refuses
(``check_content``), before the platform is asked to send it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The platform refuses longer content (error 1010); it counts characters, not septets.
MAX_CONTENT = 160
DEFAULT_NAME_FORMAT = "Birthday greetings: {list}"
DEFAULT_CONTENT = "Happy birthday! We wish you a wonderful year ahead."
#: The sender name OneConnect uses when a campaign's title is not (yet) active.
DEFAULT_SENDER = "Message"

# GSM 03.38 (3GPP TS 23.038) default alphabet, row by row as the standard prints it
# (positions 0x00-0x7F). Position 0x1B is the escape to the extension table, not a
# character, so it is written as "\x1b" here and excluded below. Spelled out rather than
# taken from a codec: Python has none for GSM-7, and a hand-made table is checkable.
_GSM7_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",  # 0x10
    " !\"#¤%&'()*+,-./",  # 0x20
    "0123456789:;<=>?",  # 0x30
    "¡ABCDEFGHIJKLMNO",  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50
    "¿abcdefghijklmno",  # 0x60
    "pqrstuvwxyzäöñüà",  # 0x70
)
GSM7_BASIC = frozenset("".join(_GSM7_ROWS)) - {"\x1b"}
# The extension table: each of these is sent as ESC + a code, so it takes two septets of
# the 160 a single GSM-7 SMS holds. (Form feed is in it too, for completeness.)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

#: Room in one SMS, and per part once a message is split (the rest holds the UDH).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ContentProblem:
    severity: Severity
    message: str


@dataclass(frozen=True)
class ContentCheck:
    """How a text travels: its encoding, the room it takes, and what is wrong with it."""

    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    #: Septets (GSM-7) or UTF-16 code units (UCS-2): what the 160/70 limits count.
    units: int
    segments: int
    #: Characters outside GSM-7, in order of first appearance (why it is UCS-2).
    non_gsm: str
    problems: tuple[ContentProblem, ...]

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.severity is Severity.WARNING)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def gsm7_septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters take two). Assumes is_gsm7."""
    return sum(_gsm7_widths(text))


def _gsm7_widths(text: str) -> list[int]:
    return [2 if ch in GSM7_EXTENSION else 1 for ch in text]


def _ucs2_widths(text: str) -> list[int]:
    """UTF-16 code units per character: two (a surrogate pair) past the first plane."""
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _parts(widths: list[int], single: int, part: int) -> int:
    """How many SMS characters of these widths take: one if they fit, else parts of
    ``part`` units filled in order, a character of two units never split between two
    (an escape and its code, a surrogate pair), so a part may end one unit short."""
    if sum(widths) <= single:
        return 1
    parts, room = 1, part
    for width in widths:
        if width > room:
            parts, room = parts + 1, part
        room -= width
    return parts


def check_content(text: str) -> ContentCheck:
    """Errors the platform would answer (blank, over 160 characters) and warnings about
    what the recipient pays for (UCS-2, more than one SMS), found before any write."""
    problems: list[ContentProblem] = []
    if not text.strip():
        problems.append(ContentProblem(Severity.ERROR, "content is blank"))
    if len(text) > MAX_CONTENT:
        problems.append(
            ContentProblem(
                Severity.ERROR,
                f"content has {len(text)} characters; OneConnect accepts at most {MAX_CONTENT}",
            )
        )
    non_gsm = "".join(
        dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION)
    )
    if non_gsm:
        encoding, single, part = "UCS-2", UCS2_SINGLE, UCS2_PART
        widths = _ucs2_widths(text)
        shown = ", ".join(repr(ch) for ch in non_gsm[:5]) + (", ..." if len(non_gsm) > 5 else "")
        problems.append(
            ContentProblem(
                Severity.WARNING,
                f"content has characters outside GSM-7 ({shown}): it is sent as UCS-2, "
                f"where one SMS holds only {UCS2_SINGLE} characters",
            )
        )
    else:
        encoding, single, part = "GSM-7", GSM7_SINGLE, GSM7_PART
        widths = _gsm7_widths(text)
    units, segments = sum(widths), _parts(widths, single, part)
    if segments > 1:
        extension = encoding == "GSM-7" and units > len(text)
        problems.append(
            ContentProblem(
                Severity.WARNING,
                f"content takes {units} {'septets' if encoding == 'GSM-7' else 'UCS-2 units'}"
                + (" (extension characters count twice)" if extension else "")
                + f": each greeting is sent as {segments} SMS",
            )
        )
    return ContentCheck(len(text), encoding, units, segments, non_gsm, tuple(problems))
