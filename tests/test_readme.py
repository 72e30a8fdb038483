"""The README's example sessions are what the commands print today (at 80 columns)."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import symgrad_executable

README = Path(__file__).resolve().parent.parent / "README.md"
SESSION = re.compile(r"```text\n\$ (symgrad [^\n]*)\n(.*?)```", re.DOTALL)


def sessions() -> list[tuple[str, str]]:
    return SESSION.findall(README.read_text(encoding="utf-8"))


# Rounding-level differences (|bwd−num| 3.6e-12) may move with NumPy's or BLAS's order
# of summation; everything else is compared as it is.
ROUNDING = re.compile(r"\d\.\de[-+]\d\d")


def _lines(text: str) -> list[str]:
    return [ROUNDING.sub("#.#e-##", line.rstrip()) for line in text.rstrip("\n").split("\n")]


def test_the_readme_shows_sessions():
    assert len(sessions()) >= 3


@pytest.mark.parametrize(("command", "shown"), sessions(), ids=[c for c, _ in sessions()])
def test_a_readme_session_is_what_the_command_prints(command, shown):
    args = shlex.split(command)[1:]
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "80", "LANG": "C.UTF-8"}
    done = subprocess.run([symgrad_executable(), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == _lines(shown), f"update the README's `{command}` block"
