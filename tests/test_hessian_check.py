"""``check`` at order 2: a layer's own ``hvp(x, v)`` beside forward/backward, checked
against the numeric derivative of its backward (and SymPy's H·v when the forward is
known). The classes are written here, each with the formula its hvp computes."""

import numpy as np
import pytest

import symgrad


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        self.dout = dout
        return dout * (1 - self.y**2)

    def hvp(self, x, v):
        """dout·f″(x)·v with f″ = −2y(1 − y²)."""
        y = np.tanh(x)
        return self.dout * (-2 * y * (1 - y**2)) * v


class TanhSignSlip(Tanh):
    def hvp(self, x, v):
        """+2y(1 − y²): the sign of f″ lost."""
        y = np.tanh(x)
        return self.dout * (2 * y * (1 - y**2)) * v


class TanhIgnoresUpstream(Tanh):
    def hvp(self, x, v):
        """f″(x)·v without dout: right only for dout = 1."""
        y = np.tanh(x)
        return -2 * y * (1 - y**2) * v


class Cubic:
    """y = x³ − x: no catalog layer, so no symbolic column."""

    def forward(self, x):
        self.x = x
        return x**3 - x

    def backward(self, dout):
        self.dout = dout
        return dout * (3 * self.x**2 - 1)

    def hvp(self, x, v):
        return self.dout * 6 * x * v


class HalfSquareLoss:
    """L = Σ (x − t)²/(2N): the Hessian is I/N."""

    def forward(self, x, t):
        self.x, self.t = x, t
        return float(np.sum((x - t) ** 2) / (2 * x.shape[0]))

    def backward(self, dout=1.0):
        return dout * (self.x - self.t) / self.x.shape[0]

    def hvp(self, x, v):
        return v / x.shape[0]


class HalfSquareLossWithoutMean(HalfSquareLoss):
    def hvp(self, x, v):
        return v  # the 1/N forgotten


@pytest.fixture
def x():
    return np.random.default_rng(5).standard_normal((2, 3))


def test_a_right_hvp_agrees_three_ways(x):
    report = symgrad.check_layer(Tanh(), x)
    assert report.ok, str(report)
    assert [g.name for g in report.comparison.gradients] == ["dx", "hvp"]
    hvp = report.comparison.gradients[1]
    assert hvp.symbolic is not None  # recognised as tanh: SymPy's H·v
    assert "hvp (6 elements)" in report.checked


def test_a_wrong_hvp_is_named_with_its_worst_point(x):
    report = symgrad.check_layer(TanhSignSlip(), x)
    assert not report.ok
    (problem,) = report.problems
    (worst,) = report.wrong
    at = x[worst.index]
    assert problem.startswith("TanhSignSlip.hvp is not the derivative of TanhSignSlip.backward")
    assert f"worst at x[{', '.join(map(str, worst.index))}] = {at:.6g}" in problem
    assert "the sign is flipped" in problem
    assert worst.backward == pytest.approx(-worst.numeric, rel=1e-8)
    assert worst.symbolic == pytest.approx(worst.numeric, rel=1e-8)


def test_an_hvp_without_dout_is_caught(x):
    assert not symgrad.check_layer(TanhIgnoresUpstream(), x).ok


def test_an_unknown_forward_is_checked_against_its_backward_alone(x):
    report = symgrad.check_layer(Cubic(), x)
    assert report.ok, str(report)
    assert report.comparison.gradients[1].symbolic is None


def test_a_losss_hvp_with_labels_held_fixed():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    right = symgrad.check_layer(HalfSquareLoss(), x, t, constants=(1,))
    assert right.ok, str(right)
    assert right.comparison.gradients[1].symbolic is not None  # recognised as mse
    wrong = symgrad.check_layer(HalfSquareLossWithoutMean(), x, t, constants=(1,))
    assert not wrong.ok
    assert "4 × the right gradient" in wrong.problems[0]


def test_the_console_script(symgrad, tmp_path):
    source = tmp_path / "hvps.py"
    source.write_text(
        "import numpy as np\n\n"
        "class Tanh:\n"
        "    def forward(self, x):\n        self.y = np.tanh(x)\n        return self.y\n\n"
        "    def backward(self, dout):\n        self.dout = dout\n"
        "        return dout * (1 - self.y**2)\n\n"
        "    def hvp(self, x, v):\n        y = np.tanh(x)\n"
        "        return self.dout * (2 * y * (1 - y**2)) * v\n",
        encoding="utf-8",
    )
    run = symgrad("check", f"{source}:Tanh", "--input", "2,3", columns=80)
    assert run.code == 1, run.stdout + run.stderr
    flat = " ".join(run.stdout.split())
    assert "Tanh.hvp is not the derivative of Tanh.backward" in flat
    assert "✗ 6 of 6 wrong" in flat


class MulWithHvp:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x

    def hvp(self, x, v):
        return 0 * v


def test_an_hvp_of_one_x_beside_several_inputs_is_said_to_be_unchecked(x):
    report = symgrad.check_layer(MulWithHvp(), x, x + 1)
    assert report.ok  # a warning, not an error
    (warning,) = report.warnings
    assert "MulWithHvp.hvp(x, v) takes one x" in warning and "x, y" in warning
    assert [g.name for g in report.comparison.gradients] == ["dx", "dy"]
