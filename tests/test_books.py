"""The books' own code, checked as it is written (issue 10).

Every class here is written for these tests in the conventions of *Deep Learning from
Scratch* (arrays W, b with gradients dW, db; caches self.x, self.out, masks) and of its
sequel (self.params and self.grads lists, written in place with [...]); none is copied.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from symgrad.api import check_layer
from symgrad.checking import findings

rng = np.random.default_rng(7)
X = rng.standard_normal((3, 4))
W = rng.standard_normal((4, 5))
B = rng.standard_normal(5)
SYMGRAD = Path(sys.executable).with_name("symgrad")


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


def cross_entropy(y, t):
    if t.size == y.size:
        t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]


class BookAffine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class BookAffineHalfDW(BookAffine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW / 2
        return dx


class SequelAffine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ W.T


class SequelAffineDWOverN(SequelAffine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[0][...] /= self.x.shape[0]
        return dx


class BookLoss:
    """Softmax with the book's cross-entropy: log(y + 1e-7), and a backward without it."""

    def forward(self, x, t):
        self.t, self.y = t, softmax(x)
        return cross_entropy(self.y, t)

    def backward(self, dout=1):
        n = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / n
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx / n


class LossWithoutN(BookLoss):
    def backward(self, dout=1):
        return super().backward(dout) * self.t.shape[0]


class LossFlipped(BookLoss):
    def backward(self, dout=1):
        return -super().backward(dout)


class BookDropout:
    def __init__(self, ratio=0.5):
        self.ratio, self.mask = ratio, None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.ratio
            return x * self.mask
        return x * (1.0 - self.ratio)

    def backward(self, dout):
        return dout * self.mask


class DropoutIgnoresMask(BookDropout):
    def backward(self, dout):
        return dout


class Float32Inside:
    """Computes in float32 whatever it is given, as the sequel's time layers do."""

    def forward(self, x):
        self.out = np.tanh(x.astype("f"))
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out**2)


class ReusesItsCache(BookLoss):
    """The sequel's TimeSoftmaxWithLoss habit: dx is the saved softmax, changed in place."""

    def backward(self, dout=1):
        dx = self.y
        dx[np.arange(self.y.shape[0]), self.t.argmax(axis=1)] -= 1
        dx /= self.y.shape[0]
        return dx


T = np.eye(4)[[0, 3, 1]]


def problems(report):
    return " ".join(report.problems)


@pytest.mark.parametrize("used", [False, True], ids=["fresh", "after-one-forward"])
def test_a_books_affine_is_right_fresh_and_after_use(used):
    layer = BookAffine(W.copy(), B.copy())
    if used:  # as the book's gradient_check leaves it: forward and backward already run
        layer.forward(X)
        layer.backward(np.ones((3, 5)))
    report = check_layer(layer, X)
    assert report.ok, report.problems
    assert [g.name for g in report.comparison.gradients] == ["dx", "dW", "db"]


def test_a_used_layer_is_left_exactly_as_it_was():
    layer = BookAffine(W.copy(), B.copy())
    layer.forward(X)
    layer.backward(np.ones((3, 5)))
    before = {k: (v, np.array(v, copy=True)) for k, v in vars(layer).items()}
    check_layer(layer, X + 1)
    assert set(vars(layer)) == set(before)
    for name, (value, saved) in before.items():
        assert getattr(layer, name) is value and np.array_equal(value, saved)


def test_a_dw_halved_in_a_used_books_affine_is_caught():
    layer = BookAffineHalfDW(W.copy(), B.copy())
    layer.forward(X)
    report = check_layer(layer, X)
    assert not report.ok and "dW is wrong" in problems(report) and "1/2" in problems(report)


def test_the_sequels_params_and_grads_are_checked_by_their_names():
    layer = SequelAffine(W.copy(), B.copy())
    report = check_layer(layer, X)
    assert report.ok, report.problems
    assert [g.name for g in report.comparison.gradients] == ["dx", "dW", "db"]
    assert np.array_equal(layer.params[0], W) and not layer.grads[0].any()


def test_a_sequel_dw_divided_by_n_is_caught_with_its_hint():
    report = check_layer(SequelAffineDWOverN(W.copy(), B.copy()), X)
    assert "dW is wrong" in problems(report) and "1/3" in problems(report)


@pytest.mark.parametrize("labels", [T, T.argmax(axis=1)], ids=["one-hot", "indices"])
def test_the_books_loss_is_right_with_warnings_and_strict_refuses(labels):
    report = check_layer(BookLoss(), X, labels, constants=(1,))
    assert report.ok, report.problems
    kinds = {f.kind for f in report.findings}
    assert kinds == {"smoothed-forward", "loss-ignores-dout"}
    assert "recognised as softmax-with-loss" in " ".join(report.comparison.notes)
    strict = check_layer(BookLoss(), X, labels, constants=(1,), strict=True)
    assert not strict.ok and len(strict.problems) == 2


@pytest.mark.parametrize(
    ("layer", "hint"),
    [(LossWithoutN(), "3 is the batch size N"), (LossFlipped(), "the sign is flipped")],
)
def test_a_loss_bug_keeps_its_hint_despite_the_smoothing_constant(layer, hint):
    report = check_layer(layer, X, T, constants=(1,))
    assert not report.ok and hint in problems(report)


def test_dropout_is_checked_with_its_mask_held_fixed():
    state = np.random.get_state()
    report = check_layer(BookDropout(), X)
    assert report.ok, report.problems
    assert "random" in " ".join(report.comparison.notes)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the caller's stream
    assert check_layer(BookDropout(), X, seed=3).ok


def test_a_dropout_backward_that_ignores_its_mask_is_caught():
    report = check_layer(DropoutIgnoresMask(), X, keywords={"train_flg": True})
    assert not report.ok and "dx is wrong" in problems(report)


def test_a_layer_computing_in_float32_is_checked_at_float32():
    report = check_layer(Float32Inside(), X)
    assert report.ok, report.problems
    assert report.comparison.dtype == "float32"
    assert "computes in float32" in " ".join(report.comparison.notes)


def binary_cross_entropy(y, t):
    """The sequel's habit: two columns (1 − y, y), picked by 0/1 labels, with the + 1e-7."""
    both = np.c_[1 - y, y]
    return -np.sum(np.log(both[np.arange(t.size), t] + 1e-7)) / t.size


class SequelSigmoidLoss:
    """One score per sample: x and t flat, N of each."""

    def forward(self, x, t):
        self.t, self.y = t, 1 / (1 + np.exp(-x))
        return binary_cross_entropy(self.y, t)

    def backward(self, dout=1):
        return (self.y - self.t) * dout / self.t.shape[0]


class SigmoidLossWithoutN(SequelSigmoidLoss):
    def backward(self, dout=1):
        return (self.y - self.t) * dout


class SequelTimeSigmoidLoss:
    """N×T scores, each a sample: the mean over all of them, and a float32 dx (dtype 'f')."""

    def forward(self, xs, ts):
        self.shape, self.steps = xs.shape, []
        loss = 0
        for k in range(xs.shape[1]):
            step = SequelSigmoidLoss()
            loss += step.forward(xs[:, k], ts[:, k])
            self.steps.append(step)
        return loss / xs.shape[1]

    def backward(self, dout=1):
        dxs = np.empty(self.shape, dtype="f")
        for k, step in enumerate(self.steps):
            dxs[:, k] = step.backward(dout / self.shape[1])
        return dxs


BINARY = np.array([1, 0, 0, 1, 1, 0])


def test_the_sequels_flat_sigmoid_loss_is_recognised_and_warned_of_its_smoothing():
    report = check_layer(SequelSigmoidLoss(), X[:, 0].copy(), BINARY[:3], constants=(1,))
    assert report.ok, report.problems
    assert "smoothed-forward" in {f.kind for f in report.findings}
    assert "recognised as sigmoid-with-loss" in " ".join(report.comparison.notes)
    broken = check_layer(SigmoidLossWithoutN(), X[:, 0].copy(), BINARY[:3], constants=(1,))
    assert not broken.ok and "a factor 3 too many" in problems(broken)


def test_a_loss_over_every_score_with_a_float32_backward_is_recognised_flattened():
    xs, ts = X[:, :2].copy(), BINARY.reshape(3, 2)
    report = check_layer(SequelTimeSigmoidLoss(), xs, ts, constants=(1,))
    assert report.ok, report.problems
    notes = " ".join(report.comparison.notes)
    assert "recognised as sigmoid-with-loss" in notes
    assert "returns dxs in float32" in notes
    assert "smoothed-forward" in {f.kind for f in report.findings}


def test_a_float32_backward_is_still_caught_when_wrong_beyond_its_rounding():
    class Wrong(SequelTimeSigmoidLoss):
        def backward(self, dout=1):
            return super().backward(dout) * np.float32(1.001)

    report = check_layer(Wrong(), X[:, :2].copy(), BINARY.reshape(3, 2), constants=(1,))
    assert not report.ok and "dxs is wrong" in problems(report)


def test_a_backward_reusing_its_cache_is_not_blamed_for_a_second_call():
    report = check_layer(ReusesItsCache(), X, T, constants=(1,))
    assert report.ok, report.problems  # the loss's two warnings only


def test_every_finding_kind_is_listed():
    source = Path(findings.__file__).read_text()
    made = set(re.findall(r'Finding\(\s*"([a-z-]+)"', source))
    assert made <= set(findings.KINDS), made - set(findings.KINDS)


def run(*args, cwd):
    return subprocess.run(
        [str(SYMGRAD), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


BOOK = {
    "common/__init__.py": "",
    "common/functions.py": """
        import numpy as np

        def sigmoid(x):
            return 1 / (1 + np.exp(-x))
        """,
    "common/layers.py": """
        import numpy as np
        from common.functions import sigmoid

        class Sigmoid:
            def forward(self, x):
                self.out = sigmoid(x)
                return self.out

            def backward(self, dout):
                return dout * (1.0 - self.out) * self.out

        class Pool:
            def __init__(self, size, scale=1.0, double=False):
                self.size, self.scale, self.double = size, scale, double

            def forward(self, x, train_flg=False):
                self.x = x
                out = self.scale * x.reshape(x.shape[0], -1, self.size).sum(axis=2)
                return 2 * out if self.double else out

            def backward(self, dout):
                d = np.repeat(dout, self.size, axis=1) * self.scale
                return 2 * d if self.double else d

        class Embed:
            def __init__(self, W):
                self.params, self.grads = [W], [np.zeros_like(W)]

            def forward(self, idx):
                W, = self.params
                self.idx = idx
                return W[idx]

            def backward(self, dout):
                self.grads[0][...] = 0
                np.add.at(self.grads[0], self.idx, dout)
        """,
}


@pytest.fixture
def book(tmp_path):
    for name, text in BOOK.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_a_books_file_runs_from_its_root_and_names_the_fix_elsewhere(book, tmp_path):
    done = run("check", "common/layers.py:Sigmoid", "--input", "2,3", cwd=book)
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = str(book / "common/layers.py") + ":Sigmoid"
    lost = run("check", target, "--input", "2,3", cwd=elsewhere)
    assert lost.returncode == 1 and "--path" in lost.stdout and "Traceback" not in lost.stderr
    found = run("check", target, "--input", "2,3", "--path", str(book), cwd=elsewhere)
    assert found.returncode == 0, found.stdout


def test_scalar_constructor_arguments_and_forward_flags(book):
    args = ["check", "common/layers.py:Pool", "--input", "2,6"]
    done = run(*args, "--set", "size=3", "--set", "scale=0.5", "--set", "double=True",
               "--flag", "train_flg=True", cwd=book)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    missing = run(*args, cwd=book)
    assert missing.returncode == 2 and "--set" in missing.stderr
    bad = run(*args, "--set", "size=__import__('os')", cwd=book)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_integer_inputs_are_indices_and_not_differentiated(book):
    done = run("check", "common/layers.py:Embed", "--input", "6:10", "--init", "W=10,3", cwd=book)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dW" in done.stdout


class BookRelu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class TwoLayers:
    """A network in the book's shape: params dict, layers, lastLayer, gradient(), loss()."""

    def __init__(self, input_size, hidden_size, output_size, decay=0.0):
        generator = np.random.default_rng(0)
        self.params = {
            "W1": 0.5 * generator.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": 0.5 * generator.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.decay = decay
        self.layers = {
            "Affine1": BookAffine(self.params["W1"], self.params["b1"]),
            "Relu1": BookRelu(),
            "Affine2": BookAffine(self.params["W2"], self.params["b2"]),
        }
        self.lastLayer = BookLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        decay = sum(0.5 * self.decay * np.sum(self.params[k] ** 2) for k in ("W1", "W2"))
        return self.lastLayer.forward(self.predict(x), t) + decay

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {
            "W1": a1.dW + self.decay * self.params["W1"],
            "b1": a1.db,
            "W2": a2.dW + self.decay * self.params["W2"],
            "b2": a2.db,
        }


class WrongLayersBias(TwoLayers):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["b1"] = 2 * grads["b1"]  # a bookkeeping slip
        return grads


class DecayTwice(TwoLayers):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["W1"] = grads["W1"] + self.decay * self.params["W1"]
        return grads


class DecayForgotten(TwoLayers):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["W2"] = grads["W2"] - self.decay * self.params["W2"]
        return grads


def test_the_books_network_is_right_with_its_own_gradient_checked():
    from symgrad.api import check_network

    for decay in (0.0, 0.1):
        report = check_network(TwoLayers(6, 5, 4, decay), X[:, :4].repeat(2, 1)[:, :6], T)
        assert report.ok, report.problems
        assert any("own gradient() checked" in n for n in report.notes)


@pytest.mark.parametrize(
    ("network", "key", "words"),
    [
        (WrongLayersBias(6, 5, 4), "b1", "differs from backprop"),
        (DecayTwice(6, 5, 4, 0.1), "W1", "differs from backprop"),
        (DecayForgotten(6, 5, 4, 0.1), "W2", "differs from backprop"),
    ],
    ids=["bookkeeping", "decay-twice", "decay-forgotten"],
)
def test_a_networks_gradient_bookkeeping_bug_is_named(network, key, words):
    from symgrad.api import check_network

    x = np.random.default_rng(2).standard_normal((3, 6))
    report = check_network(network, x, T)
    model = [f for f in report.findings if f.kind == "model-gradient"]
    assert not report.ok and [f.subject for f in model] == [key], report.problems
    assert words in model[0].message
    assert np.array_equal(network.params["W1"], TwoLayers(6, 5, 4).params["W1"])  # untouched


def test_a_network_class_from_the_command_line(tmp_path):
    parts = (softmax, cross_entropy, BookAffine, BookLoss, BookRelu, TwoLayers, WrongLayersBias)
    code = "import numpy as np\n\n\n" + "\n\n".join(inspect.getsource(p) for p in parts)
    (tmp_path / "nets.py").write_text(code)
    sizes = ["--set", "input_size=6", "--set", "hidden_size=5", "--set", "output_size=4"]
    batch = ["--input", "3,6", "--labels", "3,4"]
    done = run("net", "nets.py:TwoLayers", *sizes, *batch, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    slip = run("net", "nets.py:WrongLayersBias", *sizes, *batch, cwd=tmp_path)
    assert slip.returncode == 1 and "gradient()['b1']" in slip.stdout.replace("\n", " ")
    missing = run("net", "nets.py:TwoLayers", *sizes, "--input", "3,6", cwd=tmp_path)
    assert missing.returncode == 2 and "--labels" in missing.stderr


class SELU:
    """Its derivative jumps at 0 (λ on the right, λα on the left)."""

    alpha, scale = 1.6732632423543772, 1.0507009873554805

    def forward(self, x):
        self.x = x
        return self.scale * np.where(x > 0, x, self.alpha * (np.exp(x) - 1))

    def backward(self, dout):
        return dout * self.scale * np.where(self.x > 0, 1.0, self.alpha * np.exp(self.x))


class SELUForgetsAlpha(SELU):
    def backward(self, dout):
        return dout * self.scale * np.where(self.x > 0, 1.0, np.exp(self.x))


def test_a_jump_in_the_derivative_is_a_kink_and_an_exact_backward_agrees_there():
    x = np.array([[0.0, 0.5, -0.3], [1e-9, -2.0, 0.0]])
    report = check_layer(SELU(), x)
    assert report.ok, report.problems
    (check,) = report.comparison.gradients
    assert check.kinks is not None and check.kinks.mask[0, 0] and check.kinks.mask[1, 2]
    wrong = check_layer(SELUForgetsAlpha(), x)
    assert not wrong.ok and "slight" not in problems(wrong)


def test_a_formula_from_the_command_line_is_the_third_column(book):
    base = ["check", "common/layers.py:Sigmoid", "--input", "2,3"]
    done = run(*base, "--symbolic", "1/(1 + exp(-x))", cwd=book)
    assert done.returncode == 0 and "|bwd−sym|" in done.stdout, done.stdout + done.stderr
    named = run(*base, "--symbolic", "sigmoid", cwd=book)
    assert named.returncode == 0 and "|bwd−sym|" in named.stdout
    wrong = run(*base, "--symbolic", "x**2", cwd=book)
    assert wrong.returncode == 1
    hostile = run(*base, "--symbolic", "__import__('os').getcwd()", cwd=book)
    assert hostile.returncode == 2 and len(hostile.stderr.strip().splitlines()) == 1


class TwoOutputs:
    """Returns two arrays, as the sequel's LSTM returns (h, c); backward takes one
    upstream gradient per output."""

    def forward(self, x):
        self.x = x
        return np.tanh(x), x * x

    def backward(self, dh, dc):
        return dh * (1 - np.tanh(self.x) ** 2) + dc * 2 * self.x


class TwoOutputsForgetsOne(TwoOutputs):
    def backward(self, dh, dc):
        return dh * (1 - np.tanh(self.x) ** 2)


def test_a_forward_of_several_outputs_gets_an_upstream_gradient_for_each():
    report = check_layer(TwoOutputs(), X)
    assert report.ok, report.problems
    assert "returns 2 arrays" in " ".join(report.comparison.notes)
    assert not check_layer(TwoOutputsForgetsOne(), X).ok


def test_a_network_hint_names_the_batch_size():
    from symgrad.api import check_network

    class HalfDW(BookAffine):  # dW divided by the batch size once too often
        def backward(self, dout):
            dx = super().backward(dout)
            self.dW = self.dW / self.x.shape[0]
            return dx

    generator = np.random.default_rng(4)
    x = generator.standard_normal((3, 6))
    layers = [
        HalfDW(0.5 * generator.standard_normal((6, 5)), np.zeros(5)),
        BookRelu(),
        BookAffine(0.5 * generator.standard_normal((5, 4)), np.zeros(4)),
        BookLoss(),
    ]
    report = check_network(layers, x, T)
    assert "3 is the batch size N" in problems(report), report.problems


class UntransposedWeight(BookAffine):
    def backward(self, dout):
        super().backward(dout)
        return dout @ self.W  # the learner's slip: W is square, so the shape fits


def test_dout_times_w_instead_of_its_transpose_is_named():
    square = np.random.default_rng(5).standard_normal((4, 4))
    report = check_layer(UntransposedWeight(square, np.zeros(4)), X)
    assert "dout·Wᵀ is meant" in problems(report), report.problems


@pytest.mark.parametrize(("dropout", "ok"), [(BookDropout, True), (DropoutIgnoresMask, False)])
def test_dropout_inside_a_network_is_held_fixed(dropout, ok):
    from symgrad.api import check_network

    generator = np.random.default_rng(8)
    layers = [
        BookAffine(0.5 * generator.standard_normal((6, 5)), np.zeros(5)),
        dropout(0.3),
        BookAffine(0.5 * generator.standard_normal((5, 4)), np.zeros(4)),
        BookLoss(),
    ]
    report = check_network(layers, generator.standard_normal((3, 6)), T)
    assert report.ok == ok, report.problems
    if not ok:
        assert report.broken == ("DropoutIgnoresMask1",)


def test_a_setting_may_be_a_list_of_numbers():
    from symgrad.errors import SymgradError
    from symgrad.inputs import parse_setting

    assert parse_setting("hidden_size_list=100,50", "--set") == ("hidden_size_list", [100, 50])
    assert parse_setting("use_dropout=True", "--set") == ("use_dropout", True)
    with pytest.raises(SymgradError):
        parse_setting("sizes=3,__import__", "--set")
