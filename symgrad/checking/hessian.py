"""A user's Hessian-vector product, ``hvp(x, v)`` beside ``forward``/``backward``, as is.

``hvp(x, v)`` is taken to return H·v for H the Hessian in x of ⟨dout, forward(x)⟩, dout
being the upstream gradient last given to ``backward`` (1 for a loss, whose output is a
scalar): for an elementwise layer dout·f″(x)·v, for a loss the Hessian of the loss.

With dout held fixed, g(x) = backward(dout) after forward(x) is ∇⟨dout, forward(x)⟩, and
the derivative of ⟨v, g(x)⟩ along x is H·v. So the pair backward → hvp is checked as the
note's layer (forward = the user's backward at x, backward = the user's hvp at x) by the
one procedure every layer goes through (:func:`symgrad.checking.layer.run_check`), every
element against its own bound, with SymPy's H·v as the third column when the forward is
a catalog layer (recognised, or given with ``symbolic=``) or a SymPy expression of x.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from symgrad.checking import findings as say
from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard
from symgrad.checking.layer import choose_dtype, run_check
from symgrad.checking.objects import State, Subject, class_name, input_names
from symgrad.checking.report import LayerCheck
from symgrad.i18n import _
from symgrad.layers.spec import Layer
from symgrad.numeric.methods import Method, get_method


def has_hvp(layer: Any) -> bool:
    """The object has ``forward``, ``backward`` and a callable ``hvp``."""
    return all(callable(getattr(layer, m, None)) for m in ("forward", "backward", "hvp"))


class BackwardOf:
    """The user's backward as a function of x (dout and the labels held fixed): forward
    runs first, as training calls them; backward(v) is the user's ``hvp(x, v)``."""

    def __init__(self, layer: Any, labels: list[Any], dout: Any) -> None:
        self.layer = layer
        self.labels = labels
        self.dout = dout
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> Any:
        self.x = x
        self.layer.forward(x, *self.labels)
        returned = self.layer.backward(_copied(self.dout, x.dtype))
        return returned[0] if isinstance(returned, tuple) else returned

    def backward(self, v: np.ndarray) -> Any:
        # forward(x) ran forward and backward(dout) at this x: the dout hvp is of.
        return self.layer.hvp(np.array(self.x, copy=True), np.array(v, copy=True))


def _copied(dout: Any, dtype: np.dtype) -> Any:
    return np.array(dout, dtype=dtype, copy=True) if np.ndim(dout) else float(dout)


class Directed(Subject):
    """A backward checked as a layer, whose upstream gradient is the direction v chosen
    beforehand: SymPy's H·v (or the forward's second differences) along the same v is
    then its third column."""

    def __init__(self, direction: np.ndarray, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direction = direction

    def upstream(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.direction).astype(self.dtype)


class _Pair(Directed):
    """:class:`BackwardOf` under check, its calls named after the user's methods."""

    def __init__(self, owner: str, adapter: BackwardOf, x, dtype, name, guard, v) -> None:
        super().__init__(v, adapter, [x], (), dtype, params=(), names=(name,), guard=guard)
        self.name = owner
        self.calls = (f"{owner}.backward", f"{owner}.hvp")


def symbolic_product(
    form: Any, layer: Any, x: np.ndarray, labels: list[Any], dout: Any, v: np.ndarray, name: str
) -> np.ndarray | None:
    """SymPy's H·v of ⟨dout, forward⟩ at x along v, for a catalog layer of one input with
    a derived H·v, or a SymPy expression in x; None for anything else."""
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    if isinstance(form, Layer):
        if len(form.inputs) != 1 or form.params or not hasattr(form.form, "hvp_function"):
            return None
        arrays = {form.inputs[0]: x, **dict(zip(form.labels, labels, strict=False))}
        shapes = {n: np.shape(a) for n, a in arrays.items()}
        product = form.form.hvp_function(shapes)(arrays, dout, {form.inputs[0]: v})
        return np.asarray(product[form.inputs[0]], dtype=np.float64)
    if type(form).__module__.startswith("sympy") and len(form.free_symbols) == 1:
        symbol = sp.Symbol(name, real=True)
        expr = form.xreplace({s: symbol for s in form.free_symbols})
        scalar = ScalarForm(forward=expr, inputs=(symbol,), output="y")
        product = scalar.hvp_function({name: x.shape})({name: x}, np.asarray(dout), {name: v})
        return np.asarray(product[name], dtype=np.float64)
    return None


def check_hvp(
    layer: Any,
    *inputs: Any,
    constants: Any = (),
    seed: int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    symbolic: Any = None,
    step: float | None = None,
    progress: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> LayerCheck:
    """Check ``layer.hvp(x, v)`` against the numeric derivative of ⟨v, backward(dout)⟩
    along x, dout and v random (``seed``), the labels (``constants``) held fixed; and
    against SymPy's H·v when the forward is known (see :func:`symbolic_product`).

    Returns:
        A :class:`~symgrad.checking.report.LayerCheck` whose comparison has one gradient,
        ``hvp``; a wrong hvp is a finding naming its worst point.
    """
    from symgrad.checking import symbolic as formulas

    owner = class_name(layer)
    differentiated = [k for k in range(len(inputs)) if k not in set(constants)]
    if len(differentiated) != 1:
        names = [input_names(layer, len(inputs))[k] for k in differentiated]
        return LayerCheck(owner, None, (say.hvp_unchecked(owner, names),))
    position = differentiated[0]
    chosen = choose_dtype(dtype, inputs, set(constants))
    x = np.array(inputs[position], dtype=chosen, copy=True)
    labels = [a for k, a in enumerate(inputs) if k != position]
    guard = Guard(timeout)
    state = State(layer)
    rng = np.random.default_rng([seed, 3])  # dout and v: a stream of their own
    try:
        with guard, np.errstate(all="ignore"):
            out = np.asarray(guard.call(f"{owner}.forward", layer.forward, x.copy(), *labels))
        dout: Any = 1.0 if out.ndim == 0 else rng.standard_normal(out.shape).astype(chosen)
        v = rng.standard_normal(x.shape).astype(chosen)
        name = input_names(layer, len(inputs))[position]
        form = formulas.resolve(symbolic, layer)
        if form is None and symbolic is None:
            plain = Subject(layer, list(inputs), constants, chosen, None, guard=guard)
            with guard, np.errstate(all="ignore"):
                form = formulas.recognise(plain, out)
        third = None
        if form is not None:
            with np.errstate(all="ignore"):
                third = symbolic_product(form, layer, x, labels, dout, v, name)
        adapter = BackwardOf(layer, labels, dout)
        subject = _Pair(owner, adapter, x, chosen, name, guard, v)
        spec = False if third is None else {f"d{name}": third}
        numeric = get_method(method or "central")
        report = run_check(subject, numeric, seed, step, spec, False, progress)
    finally:
        state.restore()
    return _renamed(report, owner, name, x, form if third is not None else None)


def _renamed(report: LayerCheck, owner: str, name: str, x: np.ndarray, form: Any) -> LayerCheck:
    """The check of the pair as ``hvp``'s own: the gradient named ``hvp``, a wrong one in
    a sentence naming the user's methods and its worst point."""
    comparison, wrong, findings = report.comparison, [], []
    by_name = {} if comparison is None else {c.name: c for c in comparison.gradients}
    for w in report.wrong:
        hints = say.pattern_hints(by_name[w.name], {}, {name: x}, w.relative, "hvp")
        evidence = dataclasses.replace(w, name="hvp", hints=tuple(hints))
        wrong.append(evidence)
        value = float(np.real(x[w.index]))
        findings.append(say.wrong_derivative(owner, "hvp", "backward", evidence, value))
    findings += [f for f in report.findings if f.kind != "wrong-gradient"]
    if comparison is not None:
        said = _(
            "hvp: bwd is {owner}.hvp(x, v), num the numeric derivative along x of ⟨v, "
            "{owner}.backward(dout)⟩, for random dout and v"
        ).format(owner=owner)
        if form is not None:
            what = form.name if isinstance(form, Layer) else str(form)
            said += _("; sym is SymPy's H·v of {formula}").format(formula=what)
        comparison = dataclasses.replace(
            comparison,
            gradients=tuple(dataclasses.replace(c, name="hvp") for c in comparison.gradients),
            notes=(said,),
        )
    return dataclasses.replace(
        report,
        layer=owner,
        comparison=comparison,
        findings=tuple(findings),
        wrong=tuple(wrong),
        perturbations=tuple(
            dataclasses.replace(p, structure=_("hvp, from backward: {s}").format(s=p.structure))
            for p in report.perturbations
        ),
    )


def merged(first: LayerCheck, second: LayerCheck) -> LayerCheck:
    """The layer's check and its hvp's as one report: hvp a row after the gradients."""
    comparison = first.comparison
    if comparison is not None and second.comparison is not None:
        comparison = dataclasses.replace(
            comparison,
            gradients=(*comparison.gradients, *second.comparison.gradients),
            notes=(*comparison.notes, *second.comparison.notes),
            given={},  # hvp's elements are not made of dout
        )
    return dataclasses.replace(
        first,
        comparison=comparison,
        findings=(*first.findings, *second.findings),
        wrong=(*first.wrong, *second.wrong),
        perturbations=(*first.perturbations, *second.perturbations),
        seconds=first.seconds + second.seconds,
    )


__all__ = ["Directed", "check_hvp", "has_hvp", "merged"]
