"""Shared fixtures: the installed console script, run as a user would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# In CI every run draws the same examples, so a red build is reproducible, never luck;
# at a desk each run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Tests (and the console scripts they start) derive afresh into a private cache, never
# reading or filling the user's own ~/.cache/symgrad.
os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
# The tests read English output whatever the machine's locale; tests/test_i18n.py sets
# the language it checks.
os.environ["SYMGRAD_LANG"] = "en"


def symgrad_executable() -> str:
    """The ``symgrad`` console script of the environment running the tests."""
    beside = Path(sys.executable).with_name("symgrad")
    found = str(beside) if beside.exists() else shutil.which("symgrad")
    if not found:
        pytest.fail("the symgrad console script is not installed (pip install -e .)")
    return found


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def symgrad():
    """Run the installed ``symgrad`` with arguments; returns code, stdout, stderr."""

    def run(*args: str, timeout: float = 120, columns: int = 120) -> Run:
        env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
        done = subprocess.run(
            [symgrad_executable(), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run
