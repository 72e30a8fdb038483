"""Every command reads at the terminal's width: no line wider than the console, and no
number or verdict cut short with an ellipsis (Rich's way of shrinking a table that does
not fit). Each command is rendered at 80 and 120 columns, and at 60 where it promises to
degrade gracefully (the comparison, check and net tables)."""

from __future__ import annotations

import re
import subprocess

import pytest
from rich.cells import cell_len

from symgrad.cli.app import main
from symgrad.layers import CATALOG
from tests.conftest import symgrad_executable

NOTE = "examples/note_layers.py"
COMMANDS = [
    "derive sigmoid",
    "derive affine",
    "derive softmax-with-loss",
    "derive batchnorm",
    "derive dropout",
    "steps batchnorm",
    "derive x*exp(x)",
    *(f"compare {layer.name}" for layer in CATALOG),
    "compare affine --shape 2,3",
    "compare affine --shape 2,3 --explain",
    "compare affine --shape 3,9 --elements",
    "compare relu --at 0",
    "compare relu --at 0 --explain",
    "compare affine --exact",
    "compare sigmoid --dtype float32 --explain",
    "compare softmax-with-loss --method richardson --explain",
    "graph apple",
    "graph apple-orange",
    "graph --list",
    "graph x*y+sin(x) --at x=1,y=2",
    "steps sigmoid",
    "steps relu --at 0",
    "list",
    f"check {NOTE}:ReLU --input 2,3",
    f"check {NOTE}:Sigmoid --input 2,3 --explain",
    f"check {NOTE}:Affine --input 2,3 --init W=3,4 --init b=4",
    f"check {NOTE}:Affine --input 2,3 --init W=3,4 --init b=4 --fast",
    f"check {NOTE}:SoftmaxWithLoss --input 2,3 --labels 2,3",
    "net affine:5,relu,affine:3,softmax-with-loss --input 2,6",
    "net affine:5,relu,affine:3,softmax-with-loss --input 2,6 --explain",
    *(
        f"{command} --help"
        for command in ["derive", "compare", "graph", "steps", "list", "check", "net"]
    ),
    "--help",
]
NARROW = [c for c in COMMANDS if c.split()[0] in ("compare", "check", "net")]
# An ellipsis touching a digit, a letter or a sign: a number or a word cut short.
CUT = re.compile(r"[\w.+−-]…|…[\w.+−-]")


def render(command: str, width: int, monkeypatch, capsys) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("NO_COLOR", "1")
    with pytest.raises(SystemExit) as done:
        main(command.split())
    out = capsys.readouterr().out
    assert done.value.code in (0, 1), (command, capsys.readouterr().err)
    return out


def problems(out: str, width: int) -> list[str]:
    """The lines that are too wide or cut a number or a word."""
    # Width in terminal cells: x̂'s combining hat takes none, a Chinese character two.
    return [line for line in out.splitlines() if cell_len(line) > width or CUT.search(line)]


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_fits_without_cutting(command, width, monkeypatch, capsys):
    out = render(command, width, monkeypatch, capsys)
    assert out.strip()
    assert problems(out, width) == [], f"{command} at {width} columns:\n{out}"


@pytest.mark.parametrize("command", NARROW)
def test_checks_degrade_gracefully_at_60_columns(command, monkeypatch, capsys):
    out = render(command, 60, monkeypatch, capsys)
    assert problems(out, 60) == [], f"{command} at 60 columns:\n{out}"


def test_the_detector_sees_a_cut_number_and_a_cut_verdict():
    assert problems(" dX   0.22…   ✓ agree", 80) and problems("✓ agr… ", 80)
    assert problems("x" * 81, 80)
    assert not problems("input = 0, 1, …   and so on", 80)


def test_a_pipe_gets_80_columns_unless_columns_says_otherwise():
    """Rich's rule without a terminal: COLUMNS, else 80 (no forced width)."""
    run = [symgrad_executable(), "compare", "affine", "--shape", "2,3"]
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    default = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    wide = subprocess.run(
        run, capture_output=True, text=True, env={**env, "COLUMNS": "120"}, check=True
    ).stdout
    assert max(map(len, default.splitlines())) <= 80
    assert 80 < max(map(len, wide.splitlines())) <= 120


def test_the_verdict_comes_before_the_error_model(monkeypatch, capsys):
    out = render("compare affine --shape 2,3 --explain", 80, monkeypatch, capsys)
    assert out.index("✓ agree") < out.index("bound = 2 × truncation")
    plain = render("compare affine --shape 2,3", 80, monkeypatch, capsys)
    assert "bound = 2 × truncation" not in plain and "--explain shows" in plain


def test_large_element_tables_say_why_they_are_left_out(monkeypatch, capsys):
    out = render("compare affine --shape 5,6", 80, monkeypatch, capsys)
    assert "dW, element by element" not in out
    assert "dW has 30" in out and "--elements" in out
    shown = render("compare affine --shape 5,6 --elements", 80, monkeypatch, capsys)
    assert "dW, element by element" in shown and "(4, 5)" in shown


def test_backward_is_never_the_letter_b_beside_a_bias(monkeypatch, capsys):
    out = render("compare affine --shape 2,3", 120, monkeypatch, capsys)
    assert "b = backward" not in out and "|b−" not in out
    assert "bwd = the layer's backward" in out


def test_a_wrapped_note_or_formula_continues_under_itself(monkeypatch, capsys):
    """A note or formula wider than the screen wraps under its own first word, never back
    at the margin, where it would read as a new line of the derivation."""
    out = render("derive softmax --order 2", 80, monkeypatch, capsys)
    lines = out.splitlines()
    hvp = next(i for i, line in enumerate(lines) if line.startswith("  (H·v)ᵢ = "))
    assert lines[hvp + 1].startswith(" " * len("  (H·v)ᵢ = ")) and lines[hvp + 1].strip()
    note = next(i for i, line in enumerate(lines) if line.startswith("  note: (H·v)"))
    assert lines[note + 1].startswith(" " * len("  note: ")) and lines[note + 1].strip()
