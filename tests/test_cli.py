"""The console script as a user runs it: output, exit codes, and one-line errors."""

import json
import os
import subprocess
import sys

import pytest
import sympy as sp
from conftest import symgrad_executable


def test_derive_sigmoid_shows_the_four_nodes_and_y_one_minus_y(symgrad):
    run = symgrad("derive", "sigmoid")
    assert run.code == 0, run.stderr
    for text in ("×(−1)", "exp", "+1", "/", "∂y/∂t₃ = −y²", "exp(−x)", "y(1 − y)"):
        assert text in run.stdout


def test_compare_affine_2_3(symgrad):
    run = symgrad("compare", "affine", "--shape", "2,3")
    assert run.code == 0, run.stderr
    assert "X (2×2), W (2×3), b (3,) → Y (2×3)" in run.stdout
    assert run.stdout.count("✓ agree") == 3
    assert "element by element" in run.stdout


def test_compare_json_is_stable(symgrad):
    run = symgrad("compare", "affine", "--shape", "2,3", "--json")
    assert run.code == 0
    data = json.loads(run.stdout)
    assert data["layer"] == "affine" and data["ok"] is True
    assert data["shapes"]["X"] == [2, 2] and data["shapes"]["W"] == [2, 3]
    assert data["dtype"] == "float64" and data["seed"] == 0
    names = [g["name"] for g in data["gradients"]]
    assert names == ["dX", "dW", "db"]
    for gradient in data["gradients"]:
        assert set(gradient["errors"]) == {
            "backward_vs_symbolic",
            "backward_vs_numeric",
            "symbolic_vs_numeric",
        }
        assert gradient["ok"] is True and "tolerance" in gradient


def test_derive_json_reads_back_with_sympy(symgrad):
    y, t = sp.symbols("y t")
    expected = {
        "sigmoid": ("x", y * (1 - y)),
        "softmax-with-loss": ("x", y - t),
        "reciprocal": ("x", -(y**2)),
        "square": ("t", 2 * sp.Symbol("t")),
    }
    for layer, (wrt, derivative) in expected.items():
        data = json.loads(symgrad("derive", layer, "--json").stdout)
        assert sp.simplify(sp.sympify(data["derivatives"][wrt]) - derivative) == 0
        assert sp.sympify(data["forward"]) is not None
        for node in data["nodes"]:
            for text in node["local_derivatives"].values():
                sp.sympify(text)
    sigmoid = json.loads(symgrad("derive", "sigmoid", "--json").stdout)
    assert [n["op"] for n in sigmoid["nodes"]] == ["×(−1)", "exp", "+1", "/"]


def test_derive_json_reads_back_exactly_with_its_symbols(symgrad):
    text = "0.1*x + E*y + pi*gamma + I*x + 1e-20*x**2 + 0.30000000000000004*y"
    data = json.loads(symgrad("derive", "--json", "--", text).stdout)
    names = {name: sp.Symbol(name, real=True) for name, shape in data["symbols"].items()}
    assert all(shape == [] for shape in data["symbols"].values())
    x, y, E, i, pi, gamma = (names[n] for n in ("x", "y", "E", "I", "pi", "gamma"))
    expected = (
        sp.Float("0.1") * x + E * y + pi * gamma + i * x + sp.Float("1e-20") * x**2
    ) + sp.Float("0.30000000000000004") * y
    read = sp.sympify(data["forward"], locals=names)
    assert read.free_symbols == {x, y, E, i, pi, gamma}  # none read as SymPy's constants
    assert sp.expand(read - expected) == 0  # every constant to its last bit
    assert sp.sympify(data["derivatives"]["x"], locals=names) == sp.diff(expected, x)


def test_derive_json_for_a_matrix_layer_reads_back_with_its_symbols(symgrad):
    data = json.loads(symgrad("derive", "affine", "--json").stdout)
    dims = {d: sp.Symbol(d, integer=True, positive=True) for d in ("N", "IN", "OUT")}
    matrices = {
        name: sp.MatrixSymbol(
            name, *(dims.get(d, sp.Integer(1) if d == "1" else None) for d in shape)
        )
        for name, shape in data["symbols"].items()
    }
    names = {**matrices, **dims}

    def read(text):
        return sp.sympify(text, locals=names)

    X, W, dY = matrices["X"], matrices["W"], matrices["dY"]
    assert read(data["derivatives"]["W"]) == X.T * dY
    assert read(data["derivatives"]["X"]) == dY * W.T
    db = read(data["derivatives"]["b"])
    assert db.shape == (dims["OUT"], 1)  # dYᵀ·1: the batch sum, a column
    assert read(data["forward"]).shape == (dims["N"], dims["OUT"])
    for node in data["nodes"]:  # every string, not only the final derivatives
        output = matrices[node["output"]]
        assert read(node["expression"]).shape == output.shape
        for name, rule in node["local_derivatives"].items():
            assert read(rule).shape == matrices[name].shape


def test_derive_latex(symgrad):
    run = symgrad("derive", "sigmoid", "--latex")
    assert run.code == 0
    assert r"\begin{align*}" in run.stdout and r"y \left(1 - y\right)" in run.stdout


def test_list_shows_every_layer_and_shape_meaning(symgrad):
    run = symgrad("list")
    assert run.code == 0
    for name in (
        "add",
        "mul",
        "square",
        "reciprocal",
        "exp",
        "relu",
        "sigmoid",
        "tanh",
        "affine",
        "softmax-with-loss",
        "sigmoid-with-loss",
        "mse",
        "cross-entropy",
    ):
        assert name in run.stdout
    assert "y(1 − y)" in run.stdout and "IN,OUT" in run.stdout


def test_case_and_separator_insensitive_names(symgrad):
    assert symgrad("compare", "SoftmaxWithLoss").code == 0
    assert symgrad("derive", "softmax_with_loss").code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["derive", "sigmod"], "unknown layer 'sigmod'; did you mean 'sigmoid'?"),
        (["compare", "sigmod"], "did you mean 'sigmoid'?"),
        (["compare", "affine", "--shape", "2,x"], "malformed --shape"),
        (["compare", "affine", "--shape", "0,3"], "sizes must be positive"),
        (["compare", "sigmoid", "--shape", "-1"], "sizes must be positive"),
        (["compare", "affine", "--shape", "2,3,4"], "2-dimensional"),
        (["compare", "softmax-with-loss", "--shape", "5"], "2-dimensional"),
        (["compare", "sigmoid", "--shape", "100000,100000"], "the limit is"),
        (["compare", "affine", "--dtype", "float16"], "unknown dtype 'float16'"),
        (["compare", "affine", "--seed", "abc"], "seed must be a non-negative integer"),
        (["compare", "affine", "--batch", "0"], "batch"),
        (["compare"], "Missing argument"),
        (["frobnicate"], "No such command"),
        (["compare", "affine", "--bogus"], "No such option"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(symgrad, args, message):
    run = symgrad(*args)
    assert run.code == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert message in lines[0]


def test_a_disagreement_exits_1():
    # A broken layer swapped into the catalog, run through the CLI's own entry point.
    code = """
import dataclasses, sys
from symgrad.comparison import engine
from symgrad.layers import get_layer
from symgrad.layers.sigmoid import Sigmoid
class Broken(Sigmoid):
    def backward(self, dout):
        return 2 * super().backward(dout)
broken = dataclasses.replace(get_layer("sigmoid"), numpy_class=Broken)
engine.get_layer = lambda name: broken
from symgrad.cli.app import main
main(["compare", "sigmoid"])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert "✗ 6 of 6 wrong" in done.stdout


@pytest.mark.parametrize("args", [["--help"], ["list"], ["compare", "--help"]])
def test_help_and_list_do_not_import_sympy(args):
    code = f"""
import sys
from symgrad.cli.app import main
try:
    main({args!r})
except SystemExit:
    pass
# list may load NumPy (the catalog's layers); help must load neither
print("sympy" in sys.modules, "numpy" in sys.modules and {args!r} != ["list"])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_python_dash_m_works():
    done = subprocess.run(
        [sys.executable, "-m", "symgrad", "derive", "tanh"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "1 − y²" in done.stdout


def test_version_and_completion_are_offered(symgrad):
    from symgrad import __version__

    done = symgrad("--version")
    assert done.code == 0 and done.stdout.strip() == f"symgrad {__version__}"
    shown = symgrad("--help", columns=80).stdout
    assert "--install-completion" in shown and "--show-completion" in shown
    script = symgrad("--show-completion", "bash").stdout
    assert "_SYMGRAD_COMPLETE" in script


@pytest.mark.parametrize("columns", [60, 80])
def test_every_command_summary_is_whole(symgrad, columns):
    shown = symgrad("--help", columns=columns).stdout
    commands = shown[shown.index("Commands:") :]
    assert "..." not in commands
    assert all(len(line) <= columns for line in shown.splitlines())
    assert "every layer alone." in shown  # net's summary, wrapped at 60, never cut


def test_every_report_prints_as_its_command_does(symgrad):
    from symgrad import api

    reports = {
        "derive sigmoid": api.derive("sigmoid"),
        "compare affine --shape 2,3": api.compare("affine", shape="2,3"),
        "steps sigmoid": api.steps("sigmoid"),
        "graph apple": api.graph("apple", {}, "1"),
    }
    for command, report in reports.items():
        printed = symgrad(*command.split(), columns=80).stdout
        assert str(report) == "\n".join(line.rstrip() for line in printed.rstrip().splitlines())


def test_the_shell_completes_layer_names():
    env = {**os.environ, "_SYMGRAD_COMPLETE": "complete_bash", "COMP_WORDS": "symgrad compare s"}
    done = subprocess.run(
        [symgrad_executable()], env={**env, "COMP_CWORD": "2"}, capture_output=True, text=True
    )
    from symgrad.layers import CATALOG

    assert done.stdout.split() == [layer.name for layer in CATALOG if layer.name[0] == "s"]
    assert "sigmoid" in done.stdout.split()
