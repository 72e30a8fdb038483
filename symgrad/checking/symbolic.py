"""The symbolic column for a user's layer: SymPy's gradient of a forward the user gives.

``symbolic=`` (or a ``symbolic`` attribute on the layer's class) may be:

- a SymPy expression in symbols named after forward's arguments and the parameters,
  applied element by element with NumPy broadcasting: ``1/(1 + sp.exp(-x))``;
- a function of those arrays, given as NumPy object arrays of SymPy symbols (inputs by
  position, parameters by keyword), returning the output: ``lambda x, W, b: x.dot(W) + b``;
  SymPy differentiates it element by element, so it suits small shapes only;
- a catalog layer's name (``"sigmoid"``) or :class:`~symgrad.layers.spec.Layer`, whose
  forward the class implements;
- a mapping ``"d<name>"`` → the column itself, computed beforehand for these very arrays
  (``compare --order 2`` gives the forward's second differences so, as
  :class:`~symgrad.comparison.verdict.Estimate` objects with their own bounds).

A catalog class (or a subclass keeping its forward) gets its catalog form without asking.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from symgrad.checking.objects import Subject, catalog_entry
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers import get_layer
from symgrad.layers.arrays import erf, erfc
from symgrad.layers.spec import Layer
from symgrad.reports import GradientCheck

ELEMENT_LIMIT = 400  # symbols (and outputs) a function form may have: SymPy differentiates each
# Functions NumPy lacks (SciPy has them, and symgrad does not depend on SciPy): lambdify
# would fall back to the math module's scalar versions, which refuse arrays.
SPECIAL = {"erf": erf, "erfc": erfc}


def resolve(spec: Any, layer: Any) -> Any:
    """What stands for the layer's SymPy forward: the argument, else the class attribute,
    else the catalog's; None when there is none (or ``spec`` is False)."""
    if spec is False:
        return None
    if spec is None:
        spec = getattr(type(layer), "symbolic", None)
        if spec is None:
            return catalog_entry(layer)
    if isinstance(spec, str):
        return get_layer(spec)
    if callable(spec) and not isinstance(spec, Layer) and not _is_sympy(spec):
        try:
            takes = len(inspect.signature(spec).parameters)
        except (TypeError, ValueError):
            takes = 1
        if takes == 0:
            return resolve(spec(), layer)
    return spec


RECOGNISED = 1e-3  # a forward this close to a catalog layer's (relatively) is taken for it
# Recognition runs every catalog forward of the same arity and then SymPy's gradient on
# the check's arrays: worth it for a layer of a book's size, not for 10⁶ elements.
RECOGNITION_LIMIT = 100_000


def _catalog_arrays(layer: Layer, subject: Subject) -> dict[str, np.ndarray] | None:
    """The subject's arrays under the catalog layer's names, when their arities match."""
    names = (*layer.inputs, *layer.labels)
    if len(names) != len(subject.names) or set(layer.params) != set(subject.params):
        return None
    arrays = {
        c: np.asarray(x, dtype=np.float64) for c, x in zip(names, subject.inputs, strict=True)
    }
    first = np.shape(subject.inputs[0]) if subject.inputs else ()
    for label in layer.labels:  # the catalog's labels are one-hot; class indices become so
        given = np.asarray(subject.inputs[names.index(label)])
        if np.issubdtype(given.dtype, np.integer) and first and given.ndim + 1 == len(first):
            if given.min(initial=0) < 0 or given.max(initial=0) >= first[-1]:
                return None
            arrays[label] = np.eye(first[-1])[given]
    arrays.update({p: np.asarray(subject.values[p], dtype=np.float64) for p in layer.params})
    return arrays


def deviation(form: Any, subject: Subject, out: np.ndarray) -> float | None:
    """How far the user's forward output lies from the formula's at the same arrays:
    max |out − formula| over max |formula| (None when the formula cannot be evaluated
    here, or does not fit)."""
    if isinstance(form, Layer):
        return _closest_reading(form, subject, out)[1]
    if _is_sympy(form):
        import sympy as sp

        values = {n: np.asarray(x, dtype=np.float64) for n, x in _arrays(subject).items()}
        if not {str(v) for v in form.free_symbols} <= set(values):
            return None
        symbols = [sp.Symbol(n, real=True) for n in values]
        form = form.xreplace({v: sp.Symbol(str(v), real=True) for v in form.free_symbols})
        with np.errstate(all="ignore"):
            evaluate = sp.lambdify(symbols, form, modules=[SPECIAL, "numpy"])
            expected = np.broadcast_to(evaluate(*values.values()), np.shape(out))
    else:
        return None
    return _gap(expected, out)


def _gap(expected: np.ndarray, out: np.ndarray) -> float | None:
    if expected.shape != np.shape(out) or not np.all(np.isfinite(expected)):
        return None
    largest = float(np.max(np.abs(expected), initial=0.0))
    gap = float(np.max(np.abs(np.asarray(out, dtype=np.float64) - expected), initial=0.0))
    return gap / largest if largest else gap


def _readings(layer: Layer, subject: Subject) -> list[dict[str, np.ndarray]]:
    """The ways the subject's arrays can be the catalog layer's: as they are, and for a
    layer whose scores are samples, flattened (every entry one sample)."""
    arrays = _catalog_arrays(layer, subject)
    if arrays is None:
        return []
    readings = [arrays]
    if layer.scores_are_samples and np.ndim(arrays[layer.inputs[0]]) > 1:
        data = (*layer.inputs, *layer.labels)
        readings.append({n: a.ravel() if n in data else a for n, a in arrays.items()})
    return readings


def _closest_reading(
    layer: Layer, subject: Subject, out: np.ndarray
) -> tuple[dict[str, np.ndarray] | None, float | None]:
    """The reading whose catalog forward lies closest to the user's output, and its gap
    (the first reading and None when the catalog forward fits none)."""
    readings = _readings(layer, subject)
    best: tuple[dict[str, np.ndarray] | None, float | None] = (
        readings[0] if readings else None,
        None,
    )
    settings = layer.settings_of(subject.layer)
    if settings is None:  # the layer keeps no stride (say) of its own: no reading fits
        return best
    for arrays in readings:
        try:
            with np.errstate(all="ignore"):
                expected = np.asarray(layer.output(arrays, settings), dtype=np.float64)
        except Exception:  # a catalog forward that does not take these arrays (int labels)
            continue
        gap = _gap(expected, out)
        if gap is not None and (best[1] is None or gap < best[1]):
            best = (arrays, gap)
    return best


def recognise(subject: Subject, out: np.ndarray) -> Layer | None:
    """The catalog layer whose forward the user's matches at the check's arrays (tried
    among those with the same inputs and parameters, for inputs of at most
    :data:`RECOGNITION_LIMIT` elements), or None.

    The closest of those within :data:`RECOGNISED`: gelu and gelu-tanh are both that
    close to either one's forward, and each user's GELU is the one it computes.
    """
    from symgrad.layers import CATALOG

    if sum(np.size(x) for x in subject.inputs) > RECOGNITION_LIMIT:
        return None
    gaps = {layer.name: deviation(layer, subject, out) for layer in CATALOG}
    near = [layer for layer in CATALOG if gaps[layer.name] is not None]
    best = min(near, key=lambda layer: gaps[layer.name], default=None)
    return best if best is not None and gaps[best.name] <= RECOGNISED else None


def _is_sympy(value: Any) -> bool:
    # symgrad's own functions (sigmoid(x), max(x, 0)) are SymPy expressions too.
    return type(value).__module__.startswith(("sympy", "symgrad.expressions"))


def gradients(
    spec: Any,
    subject: Subject,
    out: np.ndarray,
    dout: np.ndarray | float,
    digits: int | None = None,
) -> tuple[dict[str, np.ndarray] | None, str | None]:
    """SymPy's ``{"d<name>": dout · ∂out/∂name}`` for every differentiated input and
    parameter, evaluated in float64 on the check's numbers (or, for a catalog form, at
    ``digits`` digits: object arrays of mpmath numbers); or None and the reason."""
    form = resolve(spec, subject.layer)
    if form is None:
        return None, None
    if isinstance(form, Mapping):
        return dict(form), None
    values = {n: np.asarray(x, dtype=np.float64) for n, x in _arrays(subject).items()}
    wanted = (*subject.differentiated_names, *subject.params)
    dout = np.asarray(dout, dtype=np.float64)
    if isinstance(form, Layer):
        return _catalog(form, subject, out, dout, digits)
    if digits is not None:
        return None, "only a catalog layer's SymPy forward is evaluated at many digits"
    if _is_sympy(form):
        return _expression(form, values, dout, wanted, np.shape(out)), None
    if callable(form):
        return _function(form, subject, values, dout, wanted)
    raise SymgradError(
        _(
            "symbolic= must be a SymPy expression, a function of symbol arrays or a catalog "
            "layer name, not {type}"
        ).format(type=type(form).__name__)
    )


def _arrays(subject: Subject) -> dict[str, np.ndarray]:
    arrays = dict(zip(subject.names, subject.inputs, strict=True))
    arrays.update(subject.values)
    return arrays


def _catalog(layer: Layer, subject: Subject, out: np.ndarray, dout, digits: int | None):
    from symgrad.comparison.engine import symbolic_gradients

    names = (*layer.inputs, *layer.labels)
    renamed, _gap = _closest_reading(layer, subject, out)
    if renamed is None:
        return None, (
            f"the symbolic column is {layer.name}'s, whose arrays ({', '.join(names)}; "
            f"parameters {', '.join(layer.params) or 'none'}) do not match this layer's"
        )
    settings = layer.settings_of(subject.layer)
    if settings is None:
        return None, (
            f"the symbolic column is {layer.name}'s, whose settings "
            f"({', '.join(layer.settings)}) this layer does not keep as integer attributes"
        )
    result = symbolic_gradients(layer, renamed, dout, digits, settings)
    back = dict(zip(names, subject.names, strict=True)) | {p: p for p in layer.params}
    shapes = {n: np.shape(a) for n, a in _arrays(subject).items()}
    kind = np.float64 if digits is None else object
    return {
        f"d{back[c[1:]]}": np.asarray(g, dtype=kind).reshape(shapes[back[c[1:]]])
        for c, g in result.items()
    }, None


def unbroadcast(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient computed on the broadcast shape, summed back to its array's shape."""
    value = np.asarray(value)
    while value.ndim > len(shape):
        value = value.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and value.shape[axis] != 1:
            value = value.sum(axis=axis, keepdims=True)
    return value.reshape(shape)


def _expression(expr, values, dout, wanted, out_shape):
    import sympy as sp

    known = {str(s) for s in expr.free_symbols}
    unknown = known - set(values)
    if unknown:
        raise SymgradError(
            _(
                "the symbolic forward uses {names}, which are not among the layer's arrays "
                "({arrays})"
            ).format(names=", ".join(sorted(unknown)), arrays=", ".join(values))
        )
    symbols = [sp.Symbol(n, real=True) for n in values]
    expr = expr.xreplace({s: sp.Symbol(str(s), real=True) for s in expr.free_symbols})
    args = list(values.values())
    result = {}
    for name in wanted:
        derivative = sp.diff(expr, sp.Symbol(name, real=True))
        derivative = sp.lambdify(symbols, derivative, [SPECIAL, "numpy"])
        local = np.broadcast_to(derivative(*args), out_shape)
        result[f"d{name}"] = unbroadcast(dout * local, values[name].shape)
    return result


def _function(function, subject: Subject, values, dout, wanted):
    import sympy as sp

    size = sum(values[n].size for n in wanted)
    if size > ELEMENT_LIMIT or dout.size > ELEMENT_LIMIT:
        return None, (
            f"no symbolic column: the symbolic function is differentiated element by element, "
            f"at most {ELEMENT_LIMIT} elements; these arrays have {size}"
        )
    symbols: dict[str, np.ndarray] = {}
    for name in wanted:
        flat = [sp.Symbol(f"{name}_{k}", real=True) for k in range(values[name].size)]
        symbols[name] = np.array(flat, dtype=object).reshape(values[name].shape)
    inputs = [symbols.get(n, values[n]) for n in subject.names]
    params = {p: symbols.get(p, values[p]) for p in subject.params}
    out = np.asarray(function(*inputs, **params), dtype=object)
    total = sp.Add(*(float(d) * o for d, o in zip(np.ravel(dout), out.ravel(), strict=True)))
    ordered = [s for n in wanted for s in symbols[n].ravel()]
    derivatives = sp.lambdify(ordered, [sp.diff(total, s) for s in ordered], "numpy")
    flat = np.asarray(derivatives(*(v for n in wanted for v in values[n].ravel())), dtype=float)
    result, start = {}, 0
    for name in wanted:
        count = values[name].size
        result[f"d{name}"] = flat[start : start + count].reshape(values[name].shape)
        start += count
    return result, None


SMOOTHING = 1e-4  # a forward this close to its formula differs by a smoothing constant


def smoothed(check: GradientCheck, deviation: float | None) -> bool:
    """The backward is the formula's exact derivative and disagrees only with the numeric
    derivative of a forward that differs slightly from the formula."""
    if deviation is None or check.symbolic is None or not 0 < deviation <= SMOOTHING:
        return False
    exact = check.worst["backward_vs_symbolic"].ok
    scale = float(np.max(np.abs(check.symbolic), initial=0.0))
    slight = check.max_difference["backward_vs_numeric"] <= 1e3 * deviation * max(scale, 1e-300)
    return exact and slight
