"""The local simulator that ``make demo`` and ``make ui`` share: one demo account, kept in
``data/simulator.db``, so the UI shows the account the demo extracted, and every run
of either continues it (delete the file to start over).

``python -m assets.sandbox --port N`` serves it (what ``make ui`` starts). Only one
process may serve the file at a time: a second one is refused, saying so.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from oneconnect_pipelines.simulator import Account, SeedSizes, Simulator, plan_named, serve

from .resources import DEMO_API_KEY, DEMO_EMAIL
from .settings import SETTINGS

SIMULATOR_DB = Path("data/simulator.db")
#: The demo account's size when the file is made.
SIZES = SeedSizes(contacts=5_000, lists=8, campaigns=8, birthday_campaigns=3, messages=20_000)


class SandboxBusy(RuntimeError):
    """The sandbox cannot be used now: another process serves its file, or its account
    is in another zone than the code location's."""


def sandbox_environment(base_url: str) -> dict[str, str]:
    """The variables that point the code location at the sandbox simulator at
    ``base_url``, with the sandbox account's own credentials: a user's real ones
    (exported for their account) would be refused there (401)."""
    return {
        "ONECONNECT_BASE_URL": base_url,
        "ONECONNECT_EMAIL": DEMO_EMAIL,
        "ONECONNECT_API_KEY": DEMO_API_KEY,
    }


def demo_account() -> Account:
    return Account(
        DEMO_EMAIL,
        DEMO_API_KEY,
        plan_named("business"),
        ZoneInfo(SETTINGS.timezone),
        sms_balance=100_000,
        seed=1,
    )


@contextmanager
def sandbox(db: Path = SIMULATOR_DB) -> Iterator[Simulator]:
    """The sandbox account, seeded on first use, held for this process alone."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SandboxBusy(
                f"{db} is served by another process (a running `make ui`?): stop it first"
            ) from None
        simulator = Simulator.create(demo_account(), SIZES, str(db))
        stored = simulator.platform.tz.key
        if stored != SETTINGS.timezone:  # a file made before: it keeps its account's zone
            raise SandboxBusy(
                f"{db} holds an account in {stored}, but ONECONNECT_TIMEZONE is "
                f"{SETTINGS.timezone} (the messages partitions would be cut in another zone "
                f"than the account's): delete {db} to make it anew in {SETTINGS.timezone}, "
                f"or set ONECONNECT_TIMEZONE={stored}"
            )
        yield simulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("ONECONNECT_SIMULATOR_PORT", "8765"))
    )
    args = parser.parse_args()
    try:
        with sandbox() as simulator:
            serve(simulator, "127.0.0.1", args.port)
    except SandboxBusy as busy:
        print(f"oneconnect sandbox: {busy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
