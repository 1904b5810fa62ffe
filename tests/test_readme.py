"""The README's commands exist: every ``make`` target it names, every ``oneconnect``
subcommand and every environment variable it documents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_make_target_in_the_readme_is_in_the_makefile() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"`make ([\w-]+)`", README)) | set(
        re.findall(r"^make ([\w-]+)", README, re.MULTILINE)
    )
    assert {"demo", "test"} <= named
    assert named <= targets, named - targets


def test_the_two_setup_commands_come_first() -> None:
    block = README.split("## Set up: two commands", 1)[1].split("```", 2)[1]
    lines = block.strip().splitlines()[1:]  # after the language tag
    assert [line.split()[:2] for line in lines] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_oneconnect_subcommand_in_the_readme_exists() -> None:
    named = set(re.findall(r"`oneconnect (\w+)", README)) | set(
        re.findall(r"^oneconnect (\w+)", README, re.MULTILINE)
    )
    assert named
    for command in named:
        answer = subprocess.run(
            [sys.executable, "-m", "assets.cli", command, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert answer.returncode == 0, (command, answer.stderr)


def test_every_documented_variable_is_read_by_the_code() -> None:
    documented = set(re.findall(r"`(ONECONNECT_[A-Z_]+)`", README))
    code = "".join(p.read_text() for p in (ROOT / "assets").glob("*.py"))
    assert documented and all(name in code for name in documented), documented
