# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The hot loop of every contact listing, compiled: decoded wire structs -> ``Contact``.

It does exactly what ``Contact._from_wire`` (the pure-Python reference, and the fallback
where this module is not built) does, with several times less CPU: timestamps and birthdays in
their usual shape are read here, anything else is handed to ``formats``' own parsers, so
the results and the errors are theirs. A hypothesis property checks the two agree.
"""

from cpython.datetime cimport date_new, datetime_new, import_datetime
from cpython.unicode cimport PyUnicode_GET_LENGTH
from msgspec.structs import astuple

from datetime import UTC

import_datetime()


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object)
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL


cdef object _UTC = UTC
cdef int _DAYS_IN_MONTH[13]
_DAYS_IN_MONTH[:] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


cdef inline int _number(const char* s, int start, int count) noexcept:
    """The ASCII digits ``s[start:start + count]`` as a number, or -1."""
    cdef int value = 0
    cdef int i
    for i in range(start, start + count):
        if s[i] < 48 or s[i] > 57:  # '0', '9'
            return -1
        value = value * 10 + (s[i] - 48)
    return value


cdef inline bint _leap(int year) noexcept:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


cdef inline int _month_days(int year, int month) noexcept:
    return 29 if month == 2 and _leap(year) else _DAYS_IN_MONTH[month]


cdef inline long long _days_from_civil(long long y, int m, int d) noexcept:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, for
    years from 1 on, so every division here is of non-negative numbers)."""
    y -= m <= 2
    cdef long long era = y // 400
    cdef long long yoe = y - era * 400
    cdef long long doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    cdef long long doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef object _timestamp(object text, object parse_timestamp):
    """``"2019-06-17 11:16:55 +0400"`` -> aware UTC datetime; other shapes to the parser."""
    cdef Py_ssize_t size
    cdef const char* s
    cdef int year, month, day, hour, minute, second, offset_h, offset_m
    cdef long long seconds, days, z, era, doe, yoe, doy, mp
    if type(text) is not str or PyUnicode_GET_LENGTH(text) != 25 or not PyUnicode_IS_ASCII(text):
        return parse_timestamp(text)
    s = PyUnicode_AsUTF8AndSize(text, &size)
    if not (s[4] == b'-' and s[7] == b'-' and s[10] == b' ' and s[13] == b':'
            and s[16] == b':' and s[19] == b' ' and (s[20] == b'+' or s[20] == b'-')):
        return parse_timestamp(text)
    year, month, day = _number(s, 0, 4), _number(s, 5, 2), _number(s, 8, 2)
    hour, minute, second = _number(s, 11, 2), _number(s, 14, 2), _number(s, 17, 2)
    offset_h, offset_m = _number(s, 21, 2), _number(s, 23, 2)
    if not (1 <= year and 1 <= month <= 12 and 1 <= day <= _month_days(year, month)
            and 0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60
            and offset_h >= 0 and 0 <= offset_m < 60):
        return parse_timestamp(text)
    seconds = hour * 3600 + minute * 60 + second - (offset_h * 3600 + offset_m * 60) * (
        1 if s[20] == b'+' else -1
    )
    days = _days_from_civil(year, month, day)
    while seconds < 0:  # the offset moved the moment to another day (at most 99:59 away)
        seconds += 86400
        days -= 1
    while seconds >= 86400:
        seconds -= 86400
        days += 1
    # civil_from_days: back to year, month, day (H. Hinnant's algorithm)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = <int>(doy - (153 * mp + 2) // 5 + 1)
    month = <int>(mp + (3 if mp < 10 else -9))
    year = <int>(yoe + era * 400 + (month <= 2))
    if not 1 <= year <= 9999:
        return parse_timestamp(text)  # out of datetime's range: the parser's own error
    return datetime_new(
        year, month, day, seconds // 3600, seconds // 60 % 60, seconds % 60, 0, _UTC
    )


cdef object _birthday(object text, object parse_birthday):
    """``"17.05.1989"`` or ``"17/05/1989"`` -> date; other shapes to the parser."""
    cdef Py_ssize_t size
    cdef const char* s
    cdef int year, month, day
    if type(text) is not str or PyUnicode_GET_LENGTH(text) != 10 or not PyUnicode_IS_ASCII(text):
        return parse_birthday(text)
    s = PyUnicode_AsUTF8AndSize(text, &size)
    if not (s[2] == s[5] and (s[2] == b'.' or s[2] == b'/')):
        return parse_birthday(text)
    day, month, year = _number(s, 0, 2), _number(s, 3, 2), _number(s, 6, 4)
    if not (1 <= year and 1 <= month <= 12 and 1 <= day <= _month_days(year, month)):
        return parse_birthday(text)
    return date_new(year, month, day)


cdef inline object _text(object value):
    """``value or None``, without the generic truth test for the usual str."""
    if type(value) is str:
        return value if PyUnicode_GET_LENGTH(value) else None
    return value or None


def build_contacts(list wires, contact, parse_timestamp, parse_birthday):
    """Wire structs, whose fields are in ``contact``'s order -> ``contact`` records.

    Empty text is None, missing additional numbers an empty tuple, and ``updated_at``
    is read only when it differs from ``created_at``.
    """
    cdef list built = []
    cdef tuple f
    for wire in wires:
        f = astuple(wire)
        created = _timestamp(f[11], parse_timestamp)
        built.append(
            contact(
                f[0],
                f[1],
                _text(f[2]),
                _text(f[3]),
                _text(f[4]),
                _birthday(f[5], parse_birthday) if f[5] else None,
                _text(f[6]),
                _text(f[7]),
                _text(f[8]),
                f[9] or (),
                _text(f[10]),
                created,
                created if f[12] == f[11] else _timestamp(f[12], parse_timestamp),
            )
        )
    return built
