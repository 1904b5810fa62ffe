"""A faithful OneConnect server (ASGI app + SQLite + seed data + faults) for loopback use.

``Simulator.create(...)`` builds the state, ``serve`` runs it from the command line and
``SimulatorThread`` runs it in the background of a test or benchmark.
"""

from __future__ import annotations

from .account import Account
from .app import API_PREFIX, Simulator, build_app
from .clock import SimClock
from .faults import Faults
from .plans import PLANS, plan_named
from .seed import SeedSizes
from .server import SimulatorThread, serve

__all__ = [
    "API_PREFIX",
    "PLANS",
    "Account",
    "Faults",
    "SeedSizes",
    "SimClock",
    "Simulator",
    "SimulatorThread",
    "build_app",
    "plan_named",
    "serve",
]
