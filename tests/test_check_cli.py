"""``symgrad check FILE.py:Class`` and ``symgrad net``, run as a user runs them."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NOTE = "examples/note_layers.py"


@pytest.fixture
def run(symgrad, monkeypatch):
    monkeypatch.chdir(ROOT)
    return symgrad


# Every command examples/note_layers.py documents, and what it must say.
DOCUMENTED = [
    ("AddLayer", ["--input", "2,3", "--input", "2,3"], 0, ["no problems found"]),
    ("MulLayer", ["--input", "2,3", "--input", "2,3"], 0, ["no problems found"]),
    (
        "ReLU",
        ["--input", "2,3"],
        1,
        ["forward returned None", "Add `return out`", "wrote into its dout argument"],
    ),
    ("Sigmoid", ["--input", "2,3"], 0, ["no problems found"]),
    ("Affine", ["--input", "2,3", "--init", "W=3,4", "--init", "b=4"], 0, ["dW", "db"]),
    (
        "SoftmaxWithLoss",
        ["--input", "2,3", "--labels", "2,3"],
        0,
        ["recognised as softmax-with-loss", "ignores dout", "log(y + 1e-7)", "⚠"],
    ),
]


def test_the_example_documents_each_command():
    text = (ROOT / NOTE).read_text()
    for name, args, _, _ in DOCUMENTED:
        assert f"symgrad check {NOTE}:{name} {' '.join(args)}" in text


@pytest.mark.parametrize(("name", "args", "code", "phrases"), DOCUMENTED, ids=lambda v: str(v))
def test_each_of_the_notes_classes_with_one_command(run, name, args, code, phrases):
    done = run("check", f"{NOTE}:{name}", *args)
    assert done.code == code, done.stdout + done.stderr
    assert done.stderr == ""
    output = " ".join(done.stdout.split())  # rich wraps long sentences
    for phrase in phrases:
        assert phrase in output


def test_json(run):
    done = run("check", f"{NOTE}:ReLU", "--input", "2,3", "--json")
    data = json.loads(done.stdout)
    assert done.code == 1 and data["ok"] is False
    assert [f["kind"] for f in data["findings"]] == ["forward-returned-none", "dout-modified"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["examples/missing.py:Affine", "--input", "2,3"], "no such file: examples/missing.py"),
        ([f"{NOTE}:Relu", "--input", "2,3"], "has no class named 'Relu'; it defines AddLayer"),
        ([NOTE, "--input", "2,3"], "expected FILE.py:ClassName"),
        ([f"{NOTE}:Affine", "--input", "2,3"], "Affine() needs W, b: pass --init W=SHAPE"),
        ([f"{NOTE}:Affine", "--input", "2,3", "--init", "W3,4"], "malformed --init 'W3,4'"),
        ([f"{NOTE}:Sigmoid", "--input", "2,x"], "malformed --input '2,x'"),
        ([f"{NOTE}:Sigmoid", "--input", "2,3", "--input", "2,3"], "takes 1 array (x), got 2"),
        ([f"{NOTE}:Sigmoid"], "give forward's inputs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, args, words):
    done = run("check", *args)
    assert done.code == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr
    assert done.stdout == ""


def test_the_notes_softmax_with_loss_as_printed_does_not_parse(run, tmp_path):
    """As printed, the note mixes tabs and spaces: one line saying where and what to do."""
    printed = (  # the note's first five lines of the class, byte for byte
        "class SoftmaxWithLoss:\n     def __init__(self):\n    \t self.loss = None # 损失\n"
        "     \t self.y = None # softmax的输出\n    \t self.t = None\n"
    )
    (tmp_path / "printed.py").write_text(printed)
    done = run("check", f"{tmp_path}/printed.py:SoftmaxWithLoss", "--input", "2,3")
    assert done.code == 1  # a problem in the user's code, not in the command line
    said = " ".join(done.stdout.split())  # as one line, however the terminal wrapped it
    assert "printed.py, line 4: inconsistent use of tabs and spaces" in said
    assert "re-indent it with spaces only" in said


def test_a_file_that_fails_to_run_names_its_line(run, tmp_path):
    (tmp_path / "broken.py").write_text("import numpy as np\n\nx = undefined_name\n")
    done = run("check", f"{tmp_path}/broken.py:Layer", "--input", "2,3")
    assert done.code == 1
    said = " ".join(done.stdout.split())
    assert "line 3" in said and "NameError" in said


def test_the_books_network(run):
    done = run("net", "affine:50,relu,affine:10,softmax-with-loss", "--input", "3,784")
    assert done.code == 0, done.stdout + done.stderr
    for text in ("W1", "784×50", "mean|bp−num|", "Relu1", "✓ All 4 parameters agree"):
        assert text in done.stdout


def test_a_bad_network_spec(run):
    done = run("net", "affine:50,relu", "--input", "3,784")
    assert done.code == 2 and "must be a loss" in done.stderr


def test_pytest_helper_example_passes():
    """examples/test_note_layers.py, the documented way to check layers in a test suite."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "examples/test_note_layers.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_assertion_message_is_the_report(tmp_path):
    from symgrad.testing import assert_backward_ok

    class Twice:
        def forward(self, x):
            return 3 * x

        def backward(self, dout):
            return 6 * dout

    import numpy as np

    with pytest.raises(AssertionError) as caught:
        assert_backward_ok(Twice(), np.ones((2, 2)))
    message = str(caught.value)
    assert message.startswith("Twice: 1 problem in its backward")
    assert "backward is 2 × the right gradient" in " ".join(message.split())
    assert textwrap.dedent(message)  # plain text, no colour codes
    assert "\x1b[" not in message
