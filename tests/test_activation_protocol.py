"""Activations in numpy-ml's convention (``fn``, ``grad``, ``grad2``), checked as such.

The classes below are written for these tests in that convention (each method's formula
in its docstring): correct ones, and planted bugs of the kinds such code has, among them
a second derivative that drops a term everywhere, like numpy-ml's own GELU.grad2.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

import symgrad

ACTIVATIONS = textwrap.dedent(
    '''
    import math

    import numpy as np

    erf = np.vectorize(math.erf, otypes=[float])


    def phi(x):
        """The standard normal density, φ(x) = exp(−x²/2)/√(2π)."""
        return np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)


    class Sigmoid:
        def fn(self, z):
            """σ(z) = 1/(1 + e^(−z))."""
            return 1 / (1 + np.exp(-z))

        def grad(self, x):
            """σ′(x) = σ(x)(1 − σ(x))."""
            s = self.fn(x)
            return s * (1 - s)

        def grad2(self, x):
            """σ″(x) = σ′(x)(1 − 2σ(x))."""
            s = self.fn(x)
            return s * (1 - s) * (1 - 2 * s)


    class Tanh:
        def fn(self, z):
            """tanh(z)."""
            return np.tanh(z)

        def grad(self, x):
            """1 − tanh²(x)."""
            return 1 - np.tanh(x) ** 2

        def grad2(self, x):
            """−2 tanh(x)(1 − tanh²(x))."""
            t = np.tanh(x)
            return -2 * t * (1 - t**2)


    class SoftPlus:
        def fn(self, z):
            """log(1 + e^z), computed as logaddexp(0, z)."""
            return np.logaddexp(0, z)

        def grad(self, x):
            """e^x/(1 + e^x) = σ(x)."""
            return 1 / (1 + np.exp(-x))

        def grad2(self, x):
            """σ(x)(1 − σ(x))."""
            s = 1 / (1 + np.exp(-x))
            return s * (1 - s)


    class ELU:
        def __init__(self, alpha=1.0):
            self.alpha = alpha

        def fn(self, z):
            """z for z > 0, α(e^z − 1) otherwise."""
            return np.where(z > 0, z, self.alpha * (np.exp(z) - 1))

        def grad(self, x):
            """1 for x > 0, α e^x otherwise."""
            return np.where(x > 0, 1.0, self.alpha * np.exp(x))

        def grad2(self, x):
            """0 for x > 0, α e^x otherwise."""
            return np.where(x > 0, 0.0, self.alpha * np.exp(x))


    class GELU:
        def __init__(self, approximate=False):
            self.approximate = approximate

        def fn(self, z):
            """GELU(z) = z Φ(z) = z (1 + erf(z/√2))/2."""
            return 0.5 * z * (1 + erf(z / np.sqrt(2)))

        def grad(self, x):
            """Φ(x) + x φ(x)."""
            return 0.5 * (1 + erf(x / np.sqrt(2))) + x * phi(x)

        def grad2(self, x):
            """φ(x)(2 − x²): φ from Φ′, and φ + xφ′ = φ(1 − x²) from (xφ)′."""
            return phi(x) * (2 - x**2)


    class SigmoidGradTwice(Sigmoid):
        def grad(self, x):
            """σ′(x), with a stray factor 2."""
            s = self.fn(x)
            return 2 * s * (1 - s)


    class GELUDroppedTerm(GELU):
        def grad2(self, x):
            """(xφ)′ only: the φ that Φ′ contributes is dropped, wrong everywhere."""
            return phi(x) * (1 - x**2)


    class GELUPrecedence(GELU):
        def grad2(self, x):
            """Meant (1/(2√2))·(…) and written 1 / 2 * √2 * (…), which is (√2/2)·(…): at 0
            it returns (√2/2)(1 + 2/√π) = 1.505 where φ(0)·2 = 0.798."""
            s = x / np.sqrt(2)
            erf_prime = 2 / np.sqrt(np.pi) * np.exp(-(s**2))
            return 1 / 2 * np.sqrt(2) * (1 + erf_prime - s * s * erf_prime)


    class GELUTanhGrad(GELU):
        def grad(self, x):
            """The tanh approximation's derivative, under the exact erf fn."""
            c = np.sqrt(2 / np.pi)
            u = c * (x + 0.044715 * x**3)
            t = np.tanh(u)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)


    class GELUBothWrong(GELUTanhGrad):
        grad2 = GELUDroppedTerm.grad2


    class GradRaises(Sigmoid):
        def grad(self, x):
            raise ValueError("no derivative here")


    class CountsCalls(Sigmoid):
        def __init__(self):
            self.calls = 0

        def fn(self, z):
            self.calls += 1
            return super().fn(z)
    '''
)

GELU_FORMULA = (lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2)(sp.Symbol("x"))


@pytest.fixture(scope="module")
def acts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("acts") / "acts.py"
    path.write_text(ACTIVATIONS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def acts(acts_file):
    spec = importlib.util.spec_from_file_location("test_activation_acts", acts_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(3).standard_normal((2, 3))


def _phi(x):
    return np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)


def _no_layer_words(report):
    """Findings name the user's methods, never the adapter's forward/backward."""
    for message in (f.message for f in report.findings):
        assert ".forward" not in message and ".backward" not in message, message
        assert "Fix the forward" not in message


@pytest.mark.parametrize(
    ("cls", "recognised"),
    [
        ("Sigmoid", "sigmoid"),
        ("Tanh", "tanh"),
        ("SoftPlus", "softplus"),
        ("ELU", "elu"),
        ("GELU", "gelu"),
    ],
)
def test_correct_activations_agree(acts, x, cls, recognised):
    report = symgrad.check_layer(getattr(acts, cls)(), x)
    assert report.ok, str(report)
    assert [g.name for g in report.comparison.gradients] == ["grad", "grad2"]
    assert report.checked == ("grad (6 elements)", "grad2 (6 elements)")
    notes = " ".join(report.comparison.notes)
    symbolic = [g.symbolic is not None for g in report.comparison.gradients]
    if recognised:
        assert f"recognised as {recognised}" in notes
        assert symbolic == [True, True]
    else:
        assert "recognised" not in notes
        assert symbolic == [False, False]


def test_the_values_checked_are_the_methods_own(acts, x):
    """dout is 1: the backward column is grad(x) itself, the numeric one fn′(x)."""
    report = symgrad.check_layer(acts.GELU(), x, symbolic=GELU_FORMULA)
    grad, grad2 = report.comparison.gradients
    exact_first = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2))) + x * _phi(x)
    np.testing.assert_allclose(grad.backward, exact_first, rtol=1e-12)
    np.testing.assert_allclose(grad.symbolic, exact_first, rtol=1e-12)
    np.testing.assert_allclose(grad2.symbolic, _phi(x) * (2 - x**2), rtol=1e-12)
    np.testing.assert_allclose(grad2.numeric, _phi(x) * (2 - x**2), rtol=1e-7)
    assert report.ok


def test_a_grad_off_by_a_factor(acts, x):
    report = symgrad.check_layer(acts.SigmoidGradTwice(), x)
    assert not report.ok
    _no_layer_words(report)
    grad, grad2 = report.problems
    assert grad.startswith("SigmoidGradTwice.grad is not the derivative of SigmoidGradTwice.fn")
    assert "grad is 2 × the right gradient everywhere" in grad
    worst = report.wrong[0]
    assert worst.name == "grad" and f"worst at z[{', '.join(map(str, worst.index))}]" in grad
    # grad2 is right; it only disagrees with the wrong grad, which SymPy tells apart.
    assert grad2.startswith("SigmoidGradTwice.grad2 is not the derivative of")
    assert "only grad is wrong" in grad2


def test_a_second_derivative_that_drops_a_term(acts, x):
    report = symgrad.check_layer(acts.GELUDroppedTerm(), x, symbolic=GELU_FORMULA)
    assert not report.ok
    _no_layer_words(report)
    (problem,) = report.problems
    assert problem.startswith("GELUDroppedTerm.grad2 is not the derivative of GELUDroppedTerm.grad")
    assert "wrong at 6 of 6 elements" in problem
    (worst,) = report.wrong
    at = x[worst.index]
    assert f"worst at z[{', '.join(map(str, worst.index))}] = {at:.6g}" in problem
    assert worst.backward == pytest.approx(_phi(at) * (1 - at**2), rel=1e-12)
    assert worst.numeric == pytest.approx(_phi(at) * (2 - at**2), rel=1e-7)
    assert worst.symbolic == pytest.approx(_phi(at) * (2 - at**2), rel=1e-12)


@pytest.mark.parametrize("symbolic", [None, "gelu"], ids=["recognised", "given"])
def test_a_grad2_wrong_by_operator_precedence_is_caught_against_sympy(acts, symbolic):
    """numpy-ml's GELU.grad2 kind of slip: 1.505 at 0 where the truth is 0.798; SymPy's
    second derivative of the recognised (or given) formula names the point."""
    at_zero = symgrad.check_layer(acts.GELUPrecedence(), np.zeros(1), symbolic=symbolic)
    (problem,) = at_zero.problems
    (worst,) = at_zero.wrong
    assert problem.startswith("GELUPrecedence.grad2 is not the derivative of GELUPrecedence.grad")
    assert "worst at z[0] = 0: grad2 gives 1.50" in problem
    assert worst.backward == pytest.approx(1.505, abs=1e-3)
    assert worst.symbolic == pytest.approx(2 / math.sqrt(2 * math.pi), rel=1e-12)  # 0.798
    assert worst.numeric == pytest.approx(worst.symbolic, rel=1e-7)
    # Wrong everywhere, not only at 0; grad itself is right.
    x = np.array([[0.0, 0.5, -1.0], [1.5, -0.25, 2.0]])
    report = symgrad.check_layer(acts.GELUPrecedence(), x, symbolic=symbolic)
    (problem,) = report.problems
    assert "wrong at 6 of 6 elements" in problem and [w.name for w in report.wrong] == ["grad2"]


def test_a_grad_from_the_tanh_approximation(acts, x):
    report = symgrad.check_layer(acts.GELUTanhGrad(), x)
    assert not report.ok
    first = report.problems[0]
    assert first.startswith("GELUTanhGrad.grad is not the derivative of GELUTanhGrad.fn")
    assert report.wrong[0].name == "grad" and 1e-6 < report.wrong[0].relative < 1e-2


def test_a_wrong_grad2_under_a_wrong_grad_is_told_apart(acts, x):
    """SymPy's second derivative says whether grad2 is wrong on its own."""
    both = symgrad.check_layer(acts.GELUBothWrong(), x, symbolic=GELU_FORMULA)
    assert [w.name for w in both.wrong] == ["grad", "grad2"]
    assert "wrong on its own, and so is grad" in both.problems[1]
    # Without a formula it cannot say (fn would be recognised as the catalog's gelu).
    unknown = symgrad.check_layer(acts.GELUBothWrong(), x, symbolic=False)
    assert "part of this may be grad's error" in unknown.problems[1]


def test_a_method_that_raises_is_named(acts, x):
    report = symgrad.check_layer(acts.GradRaises(), x)
    assert not report.ok and report.comparison is None
    _no_layer_words(report)
    assert report.problems[0].startswith("GradRaises.grad raised ValueError: no derivative here")


def test_the_object_is_left_as_it_was(acts, x):
    counting = acts.CountsCalls()
    assert symgrad.check_layer(counting, x).ok
    assert counting.calls == 0


def test_one_input_only(acts, x):
    with pytest.raises(symgrad.SymgradError, match="takes one array"):
        symgrad.check_layer(acts.Sigmoid(), x, x)


def test_the_console_script(symgrad, acts_file):
    """``symgrad check acts.py:Class --input 2,3``, constructors with defaults included."""
    done = symgrad("check", f"{acts_file}:Sigmoid", "--input", "2,3")
    assert done.code == 0, done.stdout + done.stderr
    assert "recognised as sigmoid" in " ".join(done.stdout.split())
    assert "✓ Sigmoid: no problems found" in done.stdout
    done = symgrad("check", f"{acts_file}:ELU", "--input", "2,3")
    assert done.code == 0 and "✓ ELU" in done.stdout
    done = symgrad("check", f"{acts_file}:GELUDroppedTerm", "--input", "2,3")
    assert done.code == 1
    flat = " ".join(done.stdout.split())
    assert "GELUDroppedTerm.grad2 is not the derivative of GELUDroppedTerm.grad" in flat
    assert "Fix the forward" not in flat
    done = symgrad("check", f"{acts_file}:Sigmoid", "--input", "2,3", "--labels", "2,3")
    assert done.code == 2 and "no labels" in done.stderr and "Traceback" not in done.stderr
