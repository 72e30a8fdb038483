"""Hostile layers and hostile options, through the installed console script.

A layer file is the user's own code: whatever it does (sys.exit, KeyboardInterrupt, a
loop that never ends, a backward returning NaN or a string) must end in one finding and
exit 1, never a silent exit 0 or a traceback. Malformed options are one line on stderr
and exit 2, before anything is allocated or run.
"""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pytest

from symgrad import inputs
from symgrad.api import check_layer
from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard, Interrupted, UserCodeFailed
from symgrad.cli.options import TIMEOUT_DEFAULT
from symgrad.errors import SymgradError

LAYERS = """
import sys
import time

import numpy as np


class Double:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return 2 * dout


class ExitInForward(Double):
    def forward(self, x):
        sys.exit(0)


class ExitInBackward(Double):
    def backward(self, dout):
        sys.exit(0)


class InterruptInBackward(Double):
    def backward(self, dout):
        raise KeyboardInterrupt


class NeverReturns(Double):
    def forward(self, x):
        while True:
            pass


class Sleeps(Double):
    def forward(self, x):
        time.sleep(1000)


class NanBackward(Double):
    def backward(self, dout):
        return dout * np.nan


class StringBackward(Double):
    def backward(self, dout):
        return "dx"


class ComplexBackward(Double):
    def backward(self, dout):
        return (2 * dout).astype(complex)


class RaggedBackward(Double):
    def backward(self, dout):
        return ([[1.0, 2.0], [3.0]],)  # one gradient, a list of rows of unequal length


class ComplexForward(Double):
    def forward(self, x):
        return np.sqrt(x.astype(complex))


class RaisesOnItsFourthCall(Double):
    calls = 0

    def forward(self, x):
        RaisesOnItsFourthCall.calls += 1
        if RaisesOnItsFourthCall.calls > 3:
            raise ValueError("tired")
        return 2 * x
"""


@pytest.fixture
def hostile(symgrad, tmp_path, monkeypatch):
    """Run symgrad from an empty directory, with the layers in a folder of their own;
    every run must leave the working directory empty and print no traceback."""
    folder = tmp_path / "layers"
    folder.mkdir()
    (folder / "layers.py").write_text(LAYERS)
    (folder / "exits.py").write_text("import sys\nsys.exit(0)\n")
    (folder / "loops.py").write_text("while True:\n    pass\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(*args: str):
        args = tuple(a.replace("LAYERS", str(folder / "layers.py")) for a in args)
        args = tuple(a.replace("FOLDER", str(folder)) for a in args)
        done = symgrad(*args)
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        assert list(work.iterdir()) == []
        return done

    return run


# ---------------------------------------------------------------- user code


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("LAYERS:ExitInForward", "ExitInForward.forward called sys.exit(0)"),
        ("LAYERS:ExitInBackward", "ExitInBackward.backward called sys.exit(0)"),
        ("LAYERS:InterruptInBackward", "InterruptInBackward.backward raised KeyboardInterrupt"),
        ("FOLDER/exits.py:Layer", "exits.py, line 2, called sys.exit(0) while loading"),
        ("LAYERS:NanBackward", "returned 6 non-finite values (NaN or inf) for dx"),
        ("LAYERS:StringBackward", "returned a str, 'dx', for dx"),
        ("LAYERS:ComplexBackward", "returned complex values for dx"),
        ("LAYERS:RaggedBackward", "returned a list that is not an array of numbers for dx"),
        ("LAYERS:ComplexForward", "forward returned complex values for real inputs"),
        ("LAYERS:RaisesOnItsFourthCall", "forward raised ValueError: tired during the check"),
    ],
)
def test_what_user_code_does_is_one_finding_and_exit_1(hostile, target, words):
    done = hostile("check", target, "--input", "2,3", "--json")
    assert done.code == 1, done.stdout + done.stderr
    assert done.stderr == ""
    report = json.loads(done.stdout)
    errors = [f["message"] for f in report["findings"] if f["severity"] == "error"]
    assert len(errors) == 1 and words in errors[0], errors


@pytest.mark.parametrize("target", ["LAYERS:NeverReturns", "LAYERS:Sleeps", "FOLDER/loops.py:X"])
def test_a_call_that_never_returns_is_stopped_at_the_timeout(hostile, target):
    start = time.perf_counter()
    done = hostile("check", target, "--input", "2,3", "--timeout", "1")
    elapsed = time.perf_counter() - start
    assert done.code == 1, done.stdout + done.stderr
    assert "ran for more than 1 s and was stopped" in " ".join(done.stdout.split())
    assert elapsed < 10  # the limit, a quarter of it for the tick, and the start-up


def test_the_network_check_is_contained_too():
    """check_network runs user layer objects under the same guard."""
    from symgrad.api import check_network

    class Exits:
        def forward(self, x, t):
            raise SystemExit(3)

        def backward(self, dout=1):
            return 0.0

    x = np.ones((2, 3))
    report = check_network([Exits()], x, np.eye(3)[[0, 1]])
    assert not report.ok
    assert [f.kind for f in report.findings] == ["user-code-exit"]
    assert report.problems[0].startswith("Exits.forward called sys.exit(3).")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["check", "LAYERS:Double", "--input", "2,3", "--step", "nan"],
            "--step must be a positive",
        ),
        (
            ["check", "LAYERS:Double", "--input", "2,3", "--step", "inf"],
            "--step must be a positive",
        ),
        (["check", "LAYERS:Double", "--input", "2,3", "--step", "-1"], "--step must be a positive"),
        (["check", "LAYERS:Double", "--input", "2,3", "--dtype", "bogus"], "unknown dtype 'bogus'"),
        (["net", "affine:3,softmax-with-loss", "--input", "2,4", "--dtype", "bogus"], "dtype"),
        (["net", "affine:3,softmax-with-loss", "--input", "2,4", "--step", "nan"], "--step must"),
        (["check", "LAYERS:Double", "--input", "٢,٣"], "'٢' (U+0662), a non-ASCII digit"),
        (["check", "LAYERS:Double", "--input", "２"], "'２' (U+FF12), a non-ASCII digit"),
        (["check", "LAYERS:Double", "--input", "2,3", "--labels", "٢,٣"], "U+0662"),
        (["check", "LAYERS:Double", "--input", "2,3", "--init", "W=٢"], "U+0662"),
        (["check", "LAYERS:Double", "--input", "2,3", "--seed", "٢"], "U+0662"),
        (["compare", "relu", "--shape", "٢,٣"], "--shape '٢,٣' contains '٢'"),
        (["compare", "relu", "--at", "٢"], "--at '٢' contains '٢'"),
        (["compare", "relu", "--at", "nan"], "--at x must be a finite number"),
        (["steps", "sigmoid", "--at", "inf"], "--at x must be a finite number"),
        (["net", "affine:3,softmax-with-loss", "--input", "٢,4"], "U+0662"),
        (["check", "LAYERS:Double", "--input", "9" * 5000], "5,000 characters long"),
        (["compare", "relu", "--shape", "9" * 5000], "5,000 characters long"),
        (["compare", "relu", "--seed", "9" * 5000], "5,000 characters long"),
        (["check", "LAYERS:Double", "--input", "100000,100000"], "10,000,000,000 elements"),
        (["net", "affine:3,softmax-with-loss", "--input", "100000,100000"], "the limit is"),
        (["net", "affine:100000,softmax-with-loss", "--input", "3,784"], "W1 has 78,400,000"),
        (["check", "LAYERS:Double", "--input", "2,3", "--timeout", "0"], "--timeout must be"),
        (["check", "LAYERS:Double", "--input", "2,3", "--method", "bogus"], "unknown method"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(hostile, args, words):
    start = time.perf_counter()
    done = hostile(*args)
    assert done.code == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert done.stdout == ""
    assert time.perf_counter() - start < 20  # refused before anything is allocated


def test_a_refused_size_runs_no_user_code(hostile, tmp_path):
    """The budget is checked before the file is loaded: the loop at its top never runs."""
    done = hostile("check", "FOLDER/loops.py:X", "--input", "100000,100000")
    assert done.code == 2 and "the limit is" in done.stderr


# ---------------------------------------------------------------- the guard itself


def test_guard_turns_each_escape_into_user_code_failed():
    with Guard(5) as guard:
        with pytest.raises(UserCodeFailed) as exit_failure:
            guard.call("L.forward", lambda: exit("bye"))
        with pytest.raises(UserCodeFailed) as interrupt_failure:
            guard.call("L.backward", _raise, KeyboardInterrupt())
        with pytest.raises(ValueError) as plain:
            guard.call("L.forward", _raise, ValueError("no"))
    assert (exit_failure.value.kind, exit_failure.value.what) == ("exit", "called sys.exit('bye')")
    assert str(interrupt_failure.value) == "L.backward raised KeyboardInterrupt"
    assert guard.by_user(plain.value) == "L.forward"
    assert guard.by_user(ValueError("not the user's")) is None


def test_the_terminals_ctrl_c_is_not_a_finding():
    """symgrad's SIGINT handler raises Interrupted, which passes through the guard."""
    import os
    import signal

    with Guard(5) as guard, pytest.raises(Interrupted):
        guard.call("L.forward", lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(5)))


def test_guard_restores_the_signal_handlers():
    import signal

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)
    with Guard(1):
        assert signal.getsignal(signal.SIGINT) is not before[0]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_guard_costs_under_a_microsecond_per_call():
    """The numeric check calls forward thousands of times, each through the guard."""
    import timeit

    def f(x):
        return x

    with Guard(DEFAULT_TIMEOUT) as guard:
        calls = 100_000
        direct = min(timeit.repeat(lambda: f(1), number=calls, repeat=3)) / calls
        guarded = min(timeit.repeat(lambda: guard.call("L", f, 1), number=calls, repeat=3))
    assert guarded / calls - direct < 1e-6


def test_check_layer_takes_a_timeout():
    class Slow:
        def forward(self, x):
            time.sleep(30)

        def backward(self, dout):
            return dout

    start = time.perf_counter()
    report = check_layer(Slow(), np.ones(3), timeout=0.4)
    assert time.perf_counter() - start < 5
    assert report.findings[0].kind == "user-code-timeout"
    assert report.problems[0].startswith("Slow.forward ran for more than 0.4 s and was stopped")


def test_the_cli_default_timeout_is_the_apis():
    assert float(TIMEOUT_DEFAULT) == DEFAULT_TIMEOUT


def _raise(error: BaseException) -> None:
    raise error


# ---------------------------------------------------------------- the parsers


@pytest.mark.parametrize(
    ("text", "shape"), [("2,3", (2, 3)), (" 4 ", (4,)), ("2x3", (2, 3)), ("1,2,3,4", (1, 2, 3, 4))]
)
def test_parse_shape(text, shape):
    assert inputs.parse_shape(text) == shape


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "malformed shape"),
        ("2,,3", "malformed shape"),
        ("0,3", "sizes must be positive"),
        ("1,2,3,4,5", "at most 4"),
        ("2.5", "'2.5' is not an integer"),
        ("٢", "U+0662"),
        ("1" * 101, "101 characters long"),
    ],
)
def test_parse_shape_refuses(text, words):
    with pytest.raises(SymgradError, match=re.escape(words)):
        inputs.parse_shape(text)


@pytest.mark.parametrize(
    ("text", "value"), [("0.5", 0.5), ("-1e-3", -1e-3), (".5", 0.5), ("3", 3.0), (2, 2.0)]
)
def test_parse_number(text, value):
    assert inputs.parse_number(text, "--at") == value


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999", math.nan, float("inf")])
def test_parse_number_refuses_what_is_not_finite(text):
    with pytest.raises(SymgradError, match="--at must be a finite number"):
        inputs.parse_number(text, "--at")


@pytest.mark.parametrize("text", ["0x10", "1_000", "½", "1,5", "", True])
def test_parse_number_refuses_what_is_not_a_decimal_number(text):
    with pytest.raises(SymgradError, match="--at"):
        inputs.parse_number(text, "--at")


def test_parse_step_and_timeout_need_positive_numbers():
    assert inputs.parse_step(None) is None and inputs.parse_step("1e-5") == 1e-5
    assert inputs.parse_timeout("2.5") == 2.5
    for bad in ("0", "-1", "nan"):
        with pytest.raises(SymgradError, match="must be a positive finite number"):
            inputs.parse_step(bad)


def test_parse_seed_dtype_method_count_init():
    assert inputs.parse_seed("7") == 7 and inputs.parse_seed(np.int64(3)) == 3
    for bad in ("-1", "1.5", -1, True):
        with pytest.raises(SymgradError, match="seed must be a non-negative integer"):
            inputs.parse_seed(bad)
    assert inputs.parse_dtype("float32") == np.float32 and inputs.parse_dtype(np.float64).name
    for bad in ("float16", "bogus", "int64"):
        with pytest.raises(SymgradError, match="choose float64 or float32"):
            inputs.parse_dtype(bad)
    assert inputs.parse_method("five_point").name == "five-point"
    with pytest.raises(SymgradError, match="unknown method 'bogus'"):
        inputs.parse_method("bogus")
    assert inputs.parse_count("4", "--batch") == 4
    with pytest.raises(SymgradError, match="positive integer"):
        inputs.parse_count("0", "--batch")
    assert inputs.parse_init("W=3,4") == ("W", (3, 4))
    with pytest.raises(SymgradError, match="malformed --init"):
        inputs.parse_init("3,4")


def test_check_budget_per_array_and_in_total():
    inputs.check_budget({"x": (2000, 2000), "W": (2000, 2000)})
    with pytest.raises(SymgradError, match="x has 4,000,001 elements"):
        inputs.check_budget({"x": (4_000_001,)})
    with pytest.raises(SymgradError, match="together"):
        inputs.check_budget({name: (2000, 2000) for name in "abcd"})
