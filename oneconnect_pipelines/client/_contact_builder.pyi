from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")

def build_contacts(
    wires: list[Any],
    contact: Callable[..., T],
    parse_timestamp: Callable[[str], datetime],
    parse_birthday: Callable[[str], date],
) -> list[T]: ...
