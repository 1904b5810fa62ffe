"""The library's commands: ``simulator`` runs the OneConnect simulator on loopback.

The ``oneconnect`` console script itself lives in ``assets.cli``: it adds the commands
that run Dagster jobs (``extract``, ``sync``) on top of these, so this package never
needs Dagster. ``python -m oneconnect_pipelines.cli simulator`` works without it.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
from collections.abc import Sequence
from zoneinfo import ZoneInfo


def add_simulator_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser(
        "simulator",
        help="run the OneConnect simulator on loopback",
        description="Serve a simulated OneConnect account over HTTP.",
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=_port, default=8765, help="0 picks a free port")
    sim.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    sim.add_argument("--plan", default="business", choices=("basic", "premium", "business"))
    sim.add_argument("--email", default="demo@example.com")
    sim.add_argument("--api-key", default="demo-key")
    sim.add_argument(
        "--timezone", type=_zone, default="Asia/Tbilisi", help="the account's timezone"
    )
    sim.add_argument("--balance", type=_count, default=100_000, help="SMS balance")
    sim.add_argument("--seed", type=_count, default=1)
    sim.add_argument("--contacts", type=_count, default=500)
    sim.add_argument("--lists", type=_count, default=8)
    sim.add_argument("--campaigns", type=_count, default=8)
    sim.add_argument("--birthday-campaigns", type=_count, default=3)
    sim.add_argument("--messages", type=_count, default=5000)
    sim.add_argument("--message-days", type=_count, default=90, help="days of message history")
    sim.add_argument(
        "--title-activation-s",
        type=float,
        default=3600.0,
        help="simulated seconds until a new title is activated (-1: only by admin)",
    )
    sim.add_argument(
        "--frozen", action="store_true", help="freeze the clock (move it via /_sim/clock)"
    )
    sim.add_argument("--latency-ms", type=float, default=0.0)
    sim.add_argument("--jitter-ms", type=float, default=0.0)
    sim.add_argument(
        "--error-rate",
        action="append",
        default=[],
        metavar="STATUS=RATE",
        help="inject errors, e.g. --error-rate 500=0.05 --error-rate 429=0.02",
    )
    sim.add_argument("--retry-after-s", type=float, default=1.0)
    sim.add_argument("--drop-rate", type=float, default=0.0)
    sim.add_argument("--rps-limit", type=float, default=None)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 0 or more")
    return int(text)


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (KeyError, ValueError, OSError):  # unknown (ZoneInfoNotFoundError), a folder
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a timezone name (an IANA name like Europe/Berlin)"
        ) from None


def port_taken(host: str, port: int) -> bool:
    """Whether a server already listens on ``host:port`` (checked before anything starts,
    so a taken port is named rather than met as a server's traceback)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _error_rates(items: Sequence[str]) -> dict[int, float]:
    """``["500=0.05"]`` -> ``{500: 0.05}``; a malformed item is named in the error."""
    rates: dict[int, float] = {}
    for item in items:
        status, separator, rate = item.partition("=")
        try:
            if not separator:
                raise ValueError
            rates[int(status)] = float(rate)
        except ValueError:
            raise ValueError(f"--error-rate takes STATUS=RATE, not {item!r}") from None
    return rates


def run_simulator(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print(
            "oneconnect simulator: its HTTP stack is not installed: "
            "pip install 'oneconnect-pipelines[simulator]'",
            file=sys.stderr,
        )
        return 1
    from oneconnect_pipelines.simulator import (
        Account,
        Faults,
        SeedSizes,
        SimClock,
        Simulator,
        plan_named,
        serve,
    )

    try:
        rates = _error_rates(args.error_rate)
        faults = Faults(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            error_rates=rates,
            retry_after_s=args.retry_after_s,
            drop_rate=args.drop_rate,
            rps_limit=args.rps_limit,
        )
    except ValueError as exc:
        print(f"oneconnect simulator: bad fault settings: {exc}", file=sys.stderr)
        return 2
    account = Account(
        email=args.email,
        api_key=args.api_key,
        plan=plan_named(args.plan),
        timezone=args.timezone,
        sms_balance=args.balance,
        title_activation_s=args.title_activation_s,
        seed=args.seed,
    )
    sizes = SeedSizes(
        contacts=args.contacts,
        lists=args.lists,
        campaigns=args.campaigns,
        birthday_campaigns=args.birthday_campaigns,
        messages=args.messages,
        message_days=args.message_days,
    )
    if args.port and port_taken(args.host, args.port):  # before seeding, not after
        print(
            f"oneconnect simulator: port {args.port} on {args.host} is taken (a running "
            "`make ui` or simulator?): stop it, or pass another --port",
            file=sys.stderr,
        )
        return 1
    try:
        simulator = Simulator.create(account, sizes, args.db, SimClock(frozen=args.frozen), faults)
    except (sqlite3.Error, OSError) as exc:
        print(f"oneconnect simulator: --db {args.db} cannot be used ({exc})", file=sys.stderr)
        return 1
    serve(simulator, args.host, args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneconnect", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add_simulator_command(commands)
    args = parser.parse_args(argv)
    if args.command == "simulator":
        return run_simulator(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
