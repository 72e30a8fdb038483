"""Activations written as ``fn``/``grad``/``grad2`` (numpy-ml's convention), checked as is.

Libraries such as numpy-ml write an activation as a class with ``fn(z)``, its elementwise
first derivative ``grad(x)`` and optionally its second derivative ``grad2(x)``, and no
forward/backward. Each derivative is checked against the numeric derivative of the
method it differentiates, grad against fn and grad2 against grad, by the one procedure
every layer goes through (:func:`symgrad.checking.layer.run_check`): a :class:`Derivative`
presents each pair as the note's layer, forward = the function, backward = dout · its
derivative(x). The upstream gradient is 1 for every element, so that the numbers in the
report are grad's own values; the Jacobian is diagonal, so one forward perturbs every
element at once. Findings name the user's methods (``MyGELU.grad2``), never the adapter's.

When fn is recognised as an elementwise catalog layer (or ``symbolic=`` gives its SymPy
forward), SymPy's first and second derivatives of that formula are the third column.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from typing import Any

import numpy as np

from symgrad.checking import findings as say
from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard, UserCodeFailed
from symgrad.checking.layer import choose_dtype, run_check
from symgrad.checking.objects import State, Subject, class_name
from symgrad.checking.report import Finding, LayerCheck
from symgrad.comparison.tolerance import exact_tolerance
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.spec import Layer
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.structure import elementwise_couplings

# Each derivative and the method it differentiates, in the order they are checked.
PAIRS = (("fn", "grad"), ("grad", "grad2"))
RECOGNITION_DRAWS = 3  # random arrays of the input's shape on which fn must match a layer


def follows_protocol(obj: Any) -> bool:
    """The object has ``fn`` and ``grad`` and no ``forward``/``backward``: an activation
    in numpy-ml's convention rather than the note's layer."""
    has = all(callable(getattr(obj, m, None)) for m in ("fn", "grad"))
    return has and not any(hasattr(obj, m) for m in ("forward", "backward"))


def input_name(activation: Any) -> str:
    """fn's argument's name (numpy-ml's ``z``); ``x`` when the signature says nothing."""
    try:
        parameters = inspect.signature(activation.fn).parameters.values()
    except (TypeError, ValueError):
        return "x"
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in positional]
    return names[0] if names else "x"


class Derivative:
    """Two of an activation's methods as the note's layer: forward is ``function``,
    backward is dout · ``derivative``(x) at the x forward was given.

    Both methods get copies of x: a method that writes into its argument is reported
    once, by :func:`check_activation`, and cannot disturb the numeric differences.
    """

    def __init__(self, function: Any, derivative: Any) -> None:
        self.function = function
        self.derivative = derivative
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> Any:
        self.x = x
        value = self.function(np.array(x, copy=True))
        # A derivative may be integer-valued (ReLU's (x > 0).astype(int)); differentiated
        # in turn (grad2 against it) it is a function of floats like any other.
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.integer):
            return value.astype(x.dtype)
        return value

    def backward(self, dout: Any) -> np.ndarray:
        return dout * np.asarray(self.derivative(np.array(self.x, copy=True)))


class _Pair(Subject):
    """A :class:`Derivative` under check, its calls named after the user's methods, with
    dout = 1 and the elementwise structure declared."""

    def __init__(
        self, owner: str, pair: tuple[str, str], adapter: Derivative, x, dtype, name, guard
    ) -> None:
        super().__init__(adapter, [x], (), dtype, params=(), names=(name,), guard=guard)
        self.name = owner
        self.calls = (f"{owner}.{pair[0]}", f"{owner}.{pair[1]}")

    def upstream(self, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
        # An elementwise Jacobian is diagonal: a random dout would only scale each
        # element, and 1 leaves the report showing grad(x) itself.
        return np.ones(shape, dtype=self.dtype) if shape else 1.0

    def known_couplings(self, shape, out_shape):
        return elementwise_couplings(shape, out_shape)


def _unusable(method: str, value: Any, x: np.ndarray) -> tuple[str, str] | None:
    """What is wrong with a method's return value for x, and the fix; None when it is an
    array of real finite numbers of x's shape (floating point for fn)."""
    if value is None:
        return "None", _("return the array it computes")
    if isinstance(value, tuple | list | dict):
        return _("a {type}").format(type=type(value).__name__), _(
            "return one array, of the input's shape"
        )
    what = say.not_numbers(value)
    if what is not None:
        return what, _("return real, finite numbers (a stable formula, or the right variable)")
    array = np.asarray(value)
    if method == "fn" and not np.issubdtype(array.dtype, np.floating):
        return (
            _("{dtype} values").format(dtype=array.dtype),
            _("a derivative of integers is meaningless; compute the activation in floating point"),
        )
    if array.shape != x.shape:
        return (
            _("an array of shape {shape} for an input of shape {input}").format(
                shape=array.shape, input=x.shape
            ),
            _("an activation and its derivatives act element by element and keep the shape"),
        )
    return None


def _behaviour(owner: str, method: str, call: Any, x: np.ndarray, name: str, guard: Guard):
    """Run one method twice on copies of x: (whether it is usable, findings)."""
    where = f"{owner}.{method}"
    given = x.copy()
    try:
        with np.errstate(all="ignore"):
            first = guard.call(where, call, given)
            second = guard.call(where, call, x.copy())
    except Exception as error:
        return False, [say.method_raised(owner, method, error, x.shape)]
    found: list[Finding] = []
    if not np.array_equal(given, x, equal_nan=True):
        found.append(
            say.changed_argument(
                owner, method, _("its input {name}").format(name=name), x, given, "input-modified"
            )
        )
    problem = _unusable(method, first, x)
    if problem is not None:
        return False, [*found, say.method_result_unusable(owner, method, *problem)]
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    gap = float(np.max(np.abs(second - first), initial=0.0)) if second.shape == x.shape else np.inf
    if not gap <= exact_tolerance(x.dtype, float(np.max(np.abs(first), initial=0.0))):
        return False, [*found, say.method_random(owner, method, gap)]
    return True, found


def _candidates() -> tuple[Layer, ...]:
    """The catalog's activations: elementwise layers of one input, no parameters."""
    return tuple(
        layer
        for layer in CATALOG
        if layer.kind.elementwise and len(layer.inputs) == 1 and not layer.params + layer.labels
    )


def recognise(
    fn: Any, where: str, shape: tuple[int, ...], dtype: np.dtype, seed: int, guard: Guard
) -> Layer | None:
    """The catalog activation fn computes: the one whose forward it equals, within an
    exact formula's rounding (64ε relative), at :data:`RECOGNITION_DRAWS` random arrays."""
    rng = np.random.default_rng([seed, 2])  # a stream of its own: the check uses seed's
    points = [rng.standard_normal(shape).astype(dtype) for _ in range(RECOGNITION_DRAWS)]
    try:
        with np.errstate(all="ignore"):
            values = [np.asarray(guard.call(where, fn, p.copy()), dtype=np.float64) for p in points]
    except Exception:  # fn fails away from the inputs given: then it is nothing we know
        return None
    for layer in _candidates():
        with np.errstate(all="ignore"):
            known = [np.asarray(layer.numpy_class().forward(p), dtype=np.float64) for p in points]
        if all(
            v.shape == k.shape
            and np.all(np.abs(v - k) <= exact_tolerance(dtype, np.maximum(np.abs(k), 1.0)))
            for v, k in zip(values, known, strict=True)
        ):
            return layer
    return None


def scalar_form(spec: Any, name: str) -> Any:
    """The SymPy expression of fn in the symbol ``name`` from ``symbolic=``: an elementwise
    catalog layer (or its name), or a SymPy expression in one variable.

    Raises:
        SymgradError: anything else.
    """
    import sympy as sp

    if isinstance(spec, str):
        spec = get_layer(spec)
    if isinstance(spec, Layer):
        if spec not in _candidates():
            raise SymgradError(
                _(
                    "symbolic={name}: an activation's formula is an elementwise layer of one input "
                    "({names}) or a SymPy expression"
                ).format(name=spec.name, names=", ".join(c.name for c in _candidates()))
            )
        spec = spec.form.forward
    if not isinstance(spec, sp.Expr) or len(spec.free_symbols) > 1:
        raise SymgradError(
            _(
                "symbolic= for an fn/grad activation is a SymPy expression in one variable "
                "(sp.erf(x)) or an elementwise catalog layer's name (sigmoid)"
            )
        )
    symbol = sp.Symbol(name, real=True)
    return spec.xreplace({s: symbol for s in spec.free_symbols})


def check_activation(
    activation: Any,
    *inputs: Any,
    seed: int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    symbolic: Any = None,
    fast: bool = False,
    step: float | None = None,
    progress: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> LayerCheck:
    """Check an activation's ``grad`` (and ``grad2``) against its ``fn``, as it is.

    With u = 1 for every element, grad is compared element by element with

        ∂fn(z)[e]/∂z[e] ≈ Σ wₖ·(fn(z + aₖh·e) − fn(z + bₖh·e))[e]/h

    and grad2 with the same differences of grad, every element held to its own bound
    (symgrad.comparison.verdict). First each method runs twice on the input: it must
    return real finite numbers of the input's shape, the same both times, without
    writing into its argument. seed, dtype, method, fast, step, progress and timeout are
    as :func:`symgrad.checking.layer.check_layer`'s.

    Args:
        activation: the object (``fn``, ``grad``, optionally ``grad2``); it is as it was
            afterwards.
        *inputs: the one array fn takes.
        symbolic: fn's SymPy forward (:func:`scalar_form`) for a third column; by default
            the class's ``symbolic`` attribute, else the catalog activation fn is
            recognised as (:func:`recognise`); False for none.

    Returns:
        A :class:`~symgrad.checking.report.LayerCheck` whose comparison has a gradient
        ``grad`` (and ``grad2``).

    Raises:
        SymgradError: not one input, or a ``symbolic=`` that is no formula of one variable.
    """
    start = time.perf_counter()
    owner = class_name(activation)
    name = input_name(activation)
    if len(inputs) != 1:
        raise SymgradError(
            _("{owner}.fn takes one array ({name}), got {count}: give one --input").format(
                owner=owner, name=name, count=len(inputs)
            )
        )
    chosen = choose_dtype(dtype, inputs, set())
    x = np.array(inputs[0], dtype=chosen, copy=True)
    methods = {m: getattr(activation, m) for m in ("fn", "grad", "grad2") if hasattr(activation, m)}
    guard = Guard(timeout)
    state = State(activation)
    findings: list[Finding] = []
    try:
        with guard:
            usable = set()
            for m, call in methods.items():
                ok, found = _behaviour(owner, m, call, x, name, guard)
                findings += found
                if ok:
                    usable.add(m)
            if symbolic is None:
                symbolic = getattr(type(activation), "symbolic", None)
            recognised = None
            if symbolic is None and "fn" in usable:
                recognised = recognise(methods["fn"], f"{owner}.fn", x.shape, chosen, seed, guard)
                symbolic = recognised
    except UserCodeFailed as failure:
        state.restore()
        findings.append(say.user_code_failed(failure))
        return LayerCheck(owner, None, tuple(findings), seconds=time.perf_counter() - start)
    form = None if symbolic is None or symbolic is False else scalar_form(symbolic, name)
    reports = []
    try:
        for pair in PAIRS:
            if not usable.issuperset(pair):
                continue
            adapter = Derivative(*map(methods.get, pair))
            subject = _Pair(owner, pair, adapter, x, chosen, name, guard)
            spec = False if form is None else _differentiated(form, name, PAIRS.index(pair))
            numeric = get_method(method or "central")
            reports.append((pair, run_check(subject, numeric, seed, step, spec, fast, progress)))
    finally:
        state.restore()
    report = _merged(owner, name, x, reports, findings, recognised)
    return dataclasses.replace(report, seconds=time.perf_counter() - start)


def _differentiated(form: Any, name: str, times: int) -> Any:
    """fn's formula differentiated ``times`` times: the function a pair's forward is."""
    import sympy as sp

    return sp.diff(form, sp.Symbol(name, real=True), times) if times else form


def _merged(owner, name, x, reports, findings, recognised) -> LayerCheck:
    """One report from each pair's: gradients named after the methods (``grad``,
    ``grad2``), wrong-derivative sentences naming them, and where the symbolic column
    comes from."""
    checks, wrong, perturbations, projections, notes = [], [], [], [], []
    base = None
    for (function, derivative), report in reports:
        by_name = {}
        if report.comparison is not None:
            base = base or report.comparison
            notes += [n for n in report.comparison.notes if n not in notes]
            by_name = {c.name: c for c in report.comparison.gradients}
            checks += [dataclasses.replace(c, name=derivative) for c in by_name.values()]
        for w in report.wrong:
            check = by_name[w.name]
            hints = say.pattern_hints(check, {}, {name: x}, w.relative, derivative)
            if any(e.name == function for e in wrong):  # checked against a wrong function
                beside = check.worst.get("backward_vs_symbolic")
                agrees = None if beside is None else beside.ok
                inherited = say.inherited_hint(derivative, function, agrees)
                hints = [inherited] if agrees else [inherited, *hints]
            evidence = dataclasses.replace(w, name=derivative, hints=tuple(hints))
            wrong.append(evidence)
            value = float(np.real(x[w.index]))
            findings.append(say.wrong_derivative(owner, derivative, function, evidence, value))
        findings += [f for f in report.findings if f.kind != "wrong-gradient"]
        perturbations += [
            dataclasses.replace(
                p,
                structure=_("{derivative}, from {function}: {structure}").format(
                    derivative=derivative, function=function, structure=p.structure
                ),
            )
            for p in report.perturbations
        ]
        projections += [dataclasses.replace(p, name=derivative) for p in report.projections]
    comparison = None
    if base is not None:
        said = "dout = 1 for every element: the backward column is the derivative method's "
        said += "own value"
        if recognised is not None:
            said = (
                f"recognised as {recognised.name}: {owner}.fn equals symgrad's {recognised.name} "
                f"at {RECOGNITION_DRAWS} random arrays, so SymPy's derivatives of its formula "
                f"are the symbolic column; {said}"
            )
        comparison = dataclasses.replace(
            base, layer=owner, gradients=tuple(checks), notes=(said, *notes)
        )
    return LayerCheck(
        layer=owner,
        comparison=comparison,
        findings=tuple(findings),
        wrong=tuple(wrong),
        perturbations=tuple(perturbations),
        projections=tuple(projections),
        fast=any(r.fast for _, r in reports),
    )


__all__ = ["check_activation", "follows_protocol", "recognise"]
