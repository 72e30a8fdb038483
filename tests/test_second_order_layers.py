"""Order 2 for the layers that are no elementwise function, row or loss: convolution and
average pooling (indexed sums), max pooling (windows) and batch normalisation (columns):
three ways in float64 and float32, planted curvature bugs caught, ties as kinks."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symgrad import api
from symgrad.errors import SymgradError
from symgrad.layers import get_layer, registered
from symgrad.layers.conv import Convolution

SMALL = {
    "conv": "1,1,3,3,1,2",
    "maxpool": "1,1,4,4,2",
    "avgpool": "1,1,4,4,2",
    "batchnorm": "3,2",
}


@pytest.mark.parametrize("layer", sorted(SMALL))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_each_agrees_three_ways(layer, dtype):
    for seed in range(3):
        report = api.compare(layer, seed=seed, dtype=dtype, order=2, shape=SMALL[layer])
        assert report.ok, str(report)
        assert report.order == 2
        assert all(check.symbolic is not None for check in report.gradients)


def test_conv_is_bilinear_only_its_mixed_terms_are_left():
    report = api.derive("conv", order=2)
    x_part, w_part, b_part = (report.products[n] for n in ("x", "W", "b"))
    names = {str(b) for b in x_part.atoms(sp.IndexedBase)}
    assert names == {"dy", "vW"}  # dx with W read as its direction
    assert {str(b) for b in w_part.atoms(sp.IndexedBase)} == {"dy", "vx"}
    assert b_part == 0
    assert "(H·v)_b = 0" in str(report)


def test_a_stride_and_padding_from_the_shape_reach_the_layer_at_order_two():
    report = api.compare("conv", order=2, shape="1,1,4,4,1,2,2,1")
    assert report.ok and report.shapes["y"] == (1, 1, 3, 3)  # (4 + 2 − 2)//2 + 1
    assert all(check.symbolic is not None for check in report.gradients)


def test_avgpool_is_linear_and_its_backward_has_no_derivative():
    report = api.compare("avgpool", order=2, shape=SMALL["avgpool"])
    (check,) = report.gradients
    assert report.ok and np.all(check.backward == 0) and np.all(check.numeric == 0)
    assert api.derive("avgpool", order=2).products == {"x": 0}


class StaleConvolution(Convolution):
    """dW from the windows of the first x this class ever saw: right at that point (order
    1 passes there), but dW does not move with x: the x part of H·v, ∂⟨v, g⟩/∂x, loses
    ⟨v_W, ∂dW/∂x⟩, the mixed x–W term."""

    first_col = None

    def forward(self, x):
        out = super().forward(x)
        if StaleConvolution.first_col is None:
            StaleConvolution.first_col = self.col
        return out

    def backward(self, dout):
        dx = super().backward(dout)
        filters = self.W.shape[0]
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, filters)
        self.dW = (StaleConvolution.first_col.T @ rows).T.reshape(self.W.shape)
        return dx


def test_a_conv_whose_dw_uses_a_stale_x_is_caught_at_order_two_only():
    stale = dataclasses.replace(get_layer("conv"), name="stale-conv", numpy_class=StaleConvolution)
    with registered(stale):
        StaleConvolution.first_col = None
        assert api.compare("stale-conv", shape=SMALL["conv"]).ok
        StaleConvolution.first_col = None
        report = api.compare("stale-conv", order=2, shape=SMALL["conv"])
    assert not report.ok
    wrong = {check.name: check.ok for check in report.gradients}
    assert wrong == {"(H·v)[x]": False, "(H·v)[W]": True, "(H·v)[b]": True}


def test_maxpool_ties_are_kinks_at_order_two():
    report = api.compare("maxpool", order=2, at={"x": 0.5}, shape=SMALL["maxpool"])
    (check,) = report.gradients
    assert report.ok and check.kinks is not None and check.kinks.mask.all()
    away = api.compare("maxpool", order=2, shape=SMALL["maxpool"]).gradients[0]
    assert away.kinks is None and np.all(away.backward == 0)  # linear off the ties
    derived = api.derive("maxpool", order=2)
    x1, x2, x3, x4 = (sp.Symbol(f"x{k}", real=True) for k in range(1, 5))
    assert derived.kinks == (sp.Eq(x1, sp.Max(x2, x3, x4)),)
    assert derived.second["x1", "x1"].has(sp.DiracDelta)


def _column_sums(expr, rows: dict[str, np.ndarray], scalars: dict[str, float]) -> np.ndarray:
    """A column form's expression evaluated on one column: each Σₙ over the rows given
    by name (x̂, dy, vx), then the rest, with rows read at every n."""
    n = sp.Symbol("n", integer=True, positive=True)

    def value(e):
        if isinstance(e, sp.Sum):
            return sum(value(e.function.subs(n, k)) for k in range(len(rows["dy"])))
        if isinstance(e, sp.Indexed):
            return rows[str(e.base)][int(e.indices[0])]
        if isinstance(e, sp.Symbol):
            return scalars[str(e)]
        if e.is_Number:
            return float(e)
        args = [value(a) for a in e.args]
        if isinstance(e, sp.Add):
            return sum(args)
        if isinstance(e, sp.Mul):
            return np.prod(args)
        if isinstance(e, sp.Pow):
            return args[0] ** args[1]
        raise TypeError(type(e))

    return np.array([value(expr.subs(n, k)) for k in range(len(rows["dy"]))])


def test_batchnorms_symbolic_n_product_is_the_written_out_ones_and_the_gradients_slope():
    """Three derivations of batch norm's H·v on one column: the closed form for symbolic
    N (derive), SymPy's on the N rows written out (compare's), and the central difference
    of SymPy's closed-form gradient along v."""
    layer = get_layer("batchnorm")
    rng = np.random.default_rng(3)
    rows = 5
    x, dy, vx = (rng.standard_normal((rows, 1)) for _ in range(3))
    gamma, beta, vg, vb = (rng.standard_normal(1) for _ in range(4))
    hvp = layer.form.hvp_function({"x": (rows, 1)})
    arrays = {"x": x, "gamma": gamma, "beta": beta}
    written = hvp(arrays, dy, {"x": vx, "gamma": vg, "beta": vb})

    gradient = layer.form.gradient_function({"x": (rows, 1), "gamma": (1,), "beta": (1,)})
    h = 1e-5

    def at(sign):
        moved = {"x": x + sign * h * vx, "gamma": gamma + sign * h * vg, "beta": beta}
        return gradient(moved, dy)

    slope = {k: (at(1)[k] - at(-1)[k]) / (2 * h) for k in ("dx", "dgamma")}
    assert np.allclose(written["x"], slope["dx"], rtol=1e-6, atol=1e-8)
    assert np.allclose(written["gamma"], slope["dgamma"], rtol=1e-6, atol=1e-8)
    assert np.all(written["beta"] == 0)

    products = api.derive("batchnorm", order=2).products
    sigma = float(np.sqrt(x.var() + 1e-6))
    named = {"xhat": ((x - x.mean()) / sigma)[:, 0], "dy": dy[:, 0], "vx": vx[:, 0]}
    scalars = {"γ": gamma[0], "vγ": vg[0], "vβ": vb[0], "σ": sigma, "N": rows}
    closed = _column_sums(products["x_n"], named, scalars)
    assert np.allclose(closed, written["x"][:, 0], rtol=1e-9)
    assert np.allclose(_column_sums(products["γ"], named, scalars)[0], written["gamma"])
    assert products["β"] == 0


def test_batchnorm_over_too_many_rows_is_refused_in_one_line():
    with pytest.raises(SymgradError, match="N up to 6"):
        api.compare("batchnorm", order=2, shape="8,2")


def test_the_new_layers_on_the_command_line(symgrad):
    for layer in ("conv", "maxpool", "avgpool", "batchnorm"):
        run = symgrad("derive", layer, "--order", "2", columns=80)
        assert run.code == 0, run.stderr
        assert "(H·v)" in run.stdout or "DiracDelta" in run.stdout
        run = symgrad("compare", layer, "--order", "2", "--shape", SMALL[layer], columns=80)
        assert run.code == 0, run.stderr
        assert "agrees three ways" in " ".join(run.stdout.split())
    refused = symgrad("compare", "batchnorm", "--order", "2", "--shape", "9,2")
    assert refused.code == 2 and len(refused.stderr.strip().splitlines()) == 1


def test_softmaxs_product_in_closed_form_is_its_hessian_times_v_on_any_row():
    """Found on a row of four; evaluated here on rows of five against SymPy's H·v."""
    report = api.derive("softmax", order=2)
    assert "(H·v)ᵢ = yᵢ(" in str(report)
    rng = np.random.default_rng(1)
    x, dout, v = (rng.standard_normal((3, 5)) for _ in range(3))
    truth = get_layer("softmax").form.hvp_function({"x": x.shape})({"x": x}, dout, {"x": v})["x"]
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    sums = {
        "Σₖyₖvₖ": (y * v).sum(axis=1, keepdims=True),
        "Σₖdoutₖyₖ": (y * dout).sum(axis=1, keepdims=True),
        "Σₖdoutₖyₖvₖ": (y * dout * v).sum(axis=1, keepdims=True),
        "y_i": y,
        "v_i": v,
        "dout_i": dout,
    }
    symbols = sorted(report.hvp.free_symbols, key=str)
    closed = sp.lambdify(symbols, report.hvp)(*(sums[str(s)] for s in symbols))
    assert np.allclose(closed, truth, rtol=1e-12, atol=1e-14)
    assert api.derive("log-softmax", order=2).hvp is None  # in exp(y): no such closed form
