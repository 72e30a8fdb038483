"""How long people wait for the used-by commands, as ratios to floors measured in the same run.

The machine is shared and noisy, so absolute times mean little: every command is run in
rounds interleaved with its floor, and the report gives medians, the floor's spread
(interquartile range over median, the run's noise), and the ratio command / floor.

Floors:  ``python -c "import numpy, sympy, rich, typer"`` for derive and compare,
         ``python -c "import typer, rich"`` for --help and list.
Targets: derive sigmoid and compare affine --shape 2,3 ≤ 1.3× their floor; --help ≤ 1.2×.
Run: ``.venv/bin/python benchmarks/cli_latency.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
SYMGRAD = (
    str(Path(PYTHON).with_name("symgrad"))
    if Path(PYTHON).with_name("symgrad").exists()
    else shutil.which("symgrad")
)

FLOOR_FULL = [PYTHON, "-c", "import numpy, sympy, rich, typer"]
FLOOR_HELP = [PYTHON, "-c", "import typer, rich"]
CASES = [
    # (label, command, floor, target ratio, environment additions)
    ("symgrad --help", [SYMGRAD, "--help"], FLOOR_HELP, 1.2, {}),
    ("symgrad list", [SYMGRAD, "list"], FLOOR_HELP, None, {}),
    ("symgrad derive sigmoid (cached)", [SYMGRAD, "derive", "sigmoid"], FLOOR_FULL, 1.3, {}),
    (
        "symgrad compare affine --shape 2,3 (cached)",
        [SYMGRAD, "compare", "affine", "--shape", "2,3"],
        FLOOR_FULL,
        1.3,
        {},
    ),
    (
        "symgrad derive sigmoid (no cache)",
        [SYMGRAD, "derive", "sigmoid"],
        FLOOR_FULL,
        None,
        {"SYMGRAD_NO_CACHE": "1"},
    ),
    (
        "symgrad compare affine --shape 2,3 (no cache)",
        [SYMGRAD, "compare", "affine", "--shape", "2,3"],
        FLOOR_FULL,
        None,
        {"SYMGRAD_NO_CACHE": "1"},
    ),
]


# Measured as a user's machine runs it, with bytecode caching on: this workplace sets
# PYTHONDONTWRITEBYTECODE, which makes every run recompile symgrad's own modules while
# the floors' libraries come precompiled from their wheels.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**BASE_ENV, **env},
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    if SYMGRAD is None:
        sys.exit("install symgrad first (pip install -e .)")
    for _, command, _, _, env in CASES:  # warm the OS file cache and symgrad's own cache
        wall_time(command, env)
    times: dict[str, list[float]] = {}
    floors = {"full": FLOOR_FULL, "help": FLOOR_HELP}
    for _ in range(rounds):
        for name, floor in floors.items():
            times.setdefault(f"floor {name}", []).append(wall_time(floor, {}))
        for label, command, _, _, env in CASES:
            times.setdefault(label, []).append(wall_time(command, env))

    def median(label: str) -> float:
        return statistics.median(times[label])

    print(f"{rounds} interleaved rounds on {os.cpu_count()} cores; medians in seconds\n")
    for name in floors:
        q1, _, q3 = statistics.quantiles(times[f"floor {name}"], n=4)
        print(
            f"floor {name:<5} {median(f'floor {name}'):.3f} s   "
            f"noise (IQR/median) {100 * (q3 - q1) / median(f'floor {name}'):.0f} %"
        )
    print(f"\n{'command':<48} {'median':>8} {'ratio':>7} {'target':>7}")
    for label, _, floor, target, _ in CASES:
        floor_name = "help" if floor is FLOOR_HELP else "full"
        ratio = median(label) / median(f"floor {floor_name}")
        verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
        target_text = f"≤{target}" if target else "-"
        print(f"{label:<48} {median(label):8.3f} {ratio:6.2f}× {target_text:>7} {verdict}")


if __name__ == "__main__":
    main()
