"""``check_network``: every parameter end to end, and every layer on its own.

The book checks a network by perturbing each parameter in turn and running the whole
network forward twice per element. symgrad gets the same fully numeric gradient from a
chain of *local* numeric derivatives instead. With the network run forward once, the
loss's gradient travels down layer by layer, and at each layer k

    u_{k−1} = ∂⟨u_k, f_k(a)⟩/∂a,  and  ∂L/∂θ_k = ∂⟨u_k, f_k(θ)⟩/∂θ   (numerically),

where u_k is the numeric gradient arriving from above (1 at the loss). This is the chain
rule with every Jacobian–vector product taken by finite differences of that layer's own
forward: no backward code is used, and a perturbation costs one layer's forward instead
of the whole network's. With elements perturbed in groups where a layer's Jacobian
allows (symgrad.numeric.structure), W1 of the book's 784-50-10 network takes 784
forwards per displacement instead of 39,200.

Two comparisons come out of one pass:

- end to end: backprop's gradient of every parameter against the numeric chain, held to
  the numeric error of that layer plus the error the numeric upstream u_k carries,
  propagated as |J|ᵀ·error (measured alongside: symgrad.numeric.structure.Grouping);
- locally: each layer's own backward, called with the same numeric upstream u_k, against
  its numeric derivative, so that a broken layer is named even though every parameter
  below it is then wrong end to end.

At a kink (ReLU within a step of 0) the numeric value is no derivative; where the
backward is a valid subgradient there, its value is what travels on.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np

from symgrad.checking import findings as say
from symgrad.checking import symbolic as formulas
from symgrad.checking.containment import DEFAULT_TIMEOUT, UNGUARDED, Guard, UserCodeFailed
from symgrad.checking.gradients import plan, project, verify
from symgrad.checking.layer import axis_meanings, choose_dtype, steady
from symgrad.checking.model import check_model_gradient, is_model, model_layers
from symgrad.checking.objects import Subject, catalog_entry, class_name
from symgrad.checking.progress import Progress
from symgrad.checking.report import (
    Finding,
    LocalCheck,
    NetworkCheck,
    ParameterCheck,
    Projection,
    WrongGradient,
)
from symgrad.comparison.tolerance import element_bounds, element_scale, numeric_bound
from symgrad.comparison.verdict import ratios
from symgrad.errors import SymgradError
from symgrad.i18n import _, listed, ngettext
from symgrad.layers import CATALOG, get_layer
from symgrad.layers.spec import Layer, seeded_rng
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.steps import describe_step
from symgrad.numeric.threads import one_blas_thread
from symgrad.reports import GradientCheck

# ---------------------------------------------------------------- building from a spec


def parse_spec(spec: str) -> list[tuple[Layer, object | None]]:
    """``"affine:50,relu,affine:10,softmax-with-loss"`` → catalog layers, each with what
    its kind read after ``:`` (affine's output size; None for relu).

    Raises:
        SymgradError: for an unknown layer, a missing, malformed or stray argument, a
            layer that takes two inputs, or a network that does not end in (exactly one)
            loss.
    """
    items = [item.strip() for item in spec.split(",")]
    if not spec.strip() or any(not item for item in items):
        raise SymgradError(
            _(
                "malformed network '{spec}': expected layers separated by commas, e.g. "
                "affine:50,relu,affine:10,softmax-with-loss"
            ).format(spec=spec)
        )
    losses = _(" or ").join(layer.name for layer in CATALOG if layer.kind.loss)
    layers: list[tuple[Layer, object | None]] = []
    for position, item in enumerate(items, start=1):
        name, _colon, argument = item.partition(":")
        layer = get_layer(name.strip())
        if len(layer.inputs) != 1:
            raise SymgradError(
                _(
                    "'{item}': {name} takes {count} inputs; a network here is a chain of one-input "
                    "layers"
                ).format(item=item, name=layer.name, count=len(layer.inputs))
            )
        if layer.kind.loss != (position == len(items)):
            raise SymgradError(
                _("'{spec}': the last layer, and only the last, must be a loss ({losses})").format(
                    spec=spec, losses=losses
                )
            )
        layers.append((layer, layer.kind.spec_argument(layer, argument.strip())))
    return layers


def spec_shapes(spec: str, in_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every array a spec's network makes for an input batch of ``in_shape``, by name
    (W1, b1, …, each layer's output, and the labels t), from the spec alone: what the
    memory budget is checked on before anything is allocated.

    Raises:
        SymgradError: for a bad spec, or a layer that cannot take its input's shape.
    """
    arrays: dict[str, tuple[int, ...]] = {"x": in_shape}
    shape = in_shape
    for position, (layer, argument) in enumerate(parse_spec(spec), start=1):
        if layer.kind.loss:
            arrays["t"] = shape  # the loss's labels have its scores' shape
        own, shape = layer.kind.network_shapes(layer, shape, argument)
        arrays |= {f"{name}{position}": array for name, array in own.items()}
        arrays[f"output {position}"] = shape
    return arrays


def build(
    spec: str, in_shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype
) -> tuple[list[Any], tuple[int, ...]]:
    """The catalog's classes for an input batch of ``in_shape``, each built by its kind
    with the book's initialisation (weights 0.01·randn, zero biases); returns the layer
    objects and the shape of the scores the loss sees."""
    objects = []
    for layer, argument in parse_spec(spec):
        scores = in_shape
        built, in_shape = layer.kind.build(layer, in_shape, argument, rng, dtype)
        objects.append(built)
    return objects, scores


def layer_names(layers: Sequence[Any]) -> list[str]:
    """Affine1, Relu1, Affine2, SoftmaxWithLoss: the book's names (the loss unnumbered)."""
    counts: dict[str, int] = {}
    names = []
    for position, layer in enumerate(layers):
        name = class_name(layer)
        if position == len(layers) - 1:
            names.append(name)
            continue
        counts[name] = counts.get(name, 0) + 1
        names.append(f"{name}{counts[name]}")
    return names


# ---------------------------------------------------------------- the check


class _Net:
    """A network under check: its layers as :class:`Subject`s and the values of one pass."""

    def __init__(
        self,
        layers: Sequence[Any],
        x: np.ndarray,
        t: Any,
        dtype: np.dtype,
        guard: Guard = UNGUARDED,
    ) -> None:
        if len(layers) < 1:
            raise SymgradError(_("a network needs at least a loss layer"))
        self.layers = list(layers)
        self.names = layer_names(self.layers)
        self.x = np.array(x, dtype=dtype, copy=True)
        self.t = t
        self.dtype = dtype
        self.guard = guard
        self.findings: list[Finding] = []
        self.subjects: list[Subject] = []
        self.upstream_bp: list[Any] = []  # dout each layer's backward got in backprop
        self.backprop: dict[tuple[int, str], np.ndarray] = {}  # (layer, param) → gradient
        self.loss = float("nan")
        self.notes: list[str] = []

    def is_loss(self, k: int) -> bool:
        return k == len(self.layers) - 1

    def out_shape(self, k: int) -> tuple[int, ...]:
        """Layer k's output shape: the next layer's input's (the loss's is a scalar)."""
        return () if self.is_loss(k) else np.shape(self.subjects[k + 1].inputs[0])

    def forward(self, stack: ExitStack) -> bool:
        """One forward pass on copies, each layer under check as a Subject; False with a
        finding when a layer's forward is unusable."""
        h = self.x
        for k, layer in enumerate(self.layers):
            inputs, constants = ([h, self.t], (1,)) if self.is_loss(k) else ([h], ())
            entry = catalog_entry(layer)
            params = entry.params if entry is not None else None
            subject = Subject(layer, inputs, constants, self.dtype, params, guard=self.guard)
            subject.calls = f"{self.names[k]}.forward", f"{self.names[k]}.backward"
            stack.enter_context(subject.borrowed())
            installed = {p: getattr(layer, p) for p in subject.candidates}
            subject.copy_inputs = True
            try:
                with np.errstate(all="ignore"):
                    out, passed = subject.call_forward()
            except Exception as error:
                self.findings.append(say.forward_raised(self.names[k], error))
                return False
            # Only a forward that writes into its input needs a fresh copy every time.
            subject.copy_inputs = not all(
                np.array_equal(a, b) for a, b in zip(passed, subject.inputs, strict=True)
            )
            subject.rebound = {p for p, v in installed.items() if getattr(layer, p) is not v}
            self.subjects.append(subject)
            if out is None:
                self.findings.append(say.forward_returned_none(self.names[k]))
                return False
            array = np.asarray(out)
            if array.dtype == object or not np.issubdtype(array.dtype, np.inexact):
                self.findings.append(say.forward_not_array(self.names[k], out))
                return False
            if np.iscomplexobj(array):  # the inputs are real: x and t as given, cast to dtype
                self.findings.append(say.forward_complex(self.names[k]))
                return False
            if not np.all(np.isfinite(array)):
                self.findings.append(say.forward_not_finite(self.names[k], array))
                return False
            array, held = steady(subject, array, self.findings)  # dropout: its mask fixed
            if array is None:
                return False
            self.notes += [held] if held else []
            if self.is_loss(k):
                if array.ndim != 0:
                    self.findings.append(
                        Finding(
                            "forward-not-array",
                            _(
                                "{layer}, the last layer, must return a scalar loss; it "
                                "returned an array of shape {shape}."
                            ).format(layer=self.names[k], shape=array.shape),
                        )
                    )
                    return False
                self.loss = float(array)
            h = array.astype(self.dtype)
        return True

    def backward(self) -> bool:
        """Backprop: the loss's backward with dout = 1, then every layer's in turn."""
        dout: Any = 1.0
        self.upstream_bp = [None] * len(self.layers)
        for k in reversed(range(len(self.layers))):
            subject = self.subjects[k]
            self.upstream_bp[k] = dout
            given = np.array(dout, copy=True) if isinstance(dout, np.ndarray) else dout
            try:
                returned = subject.call_backward(given)
            except Exception as error:
                self.findings.append(say.backward_raised(self.names[k], error, np.shape(dout)))
                return False
            if isinstance(dout, np.ndarray) and not np.array_equal(given, dout):
                self.findings.append(
                    dataclasses.replace(
                        say.changed_argument(
                            self.names[k], "backward", _("its dout"), dout, given, "dout-modified"
                        ),
                        severity="warning",
                    )
                )
            for name in subject.settle_parameters(subject.rebound):
                self.findings.append(say.no_gradient_stored(self.names[k], name))
            for p, value in subject.parameter_gradients().items():
                if value is None:
                    self.findings.append(say.gradient_missing(self.names[k], p))
                    return False
                unusable = say.unusable_gradient(self.names[k], f"d{p}", value)
                if unusable is not None:
                    self.findings.append(unusable)
                    return False
                value = np.asarray(value)
                if value.shape != subject.values[p].shape:
                    self.findings.append(
                        say.gradient_shape(
                            self.names[k], f"d{p}", p, value.shape, subject.values[p].shape
                        )
                    )
                    return False
                self.backprop[(k, p)] = np.array(value, dtype=np.float64, copy=True)
            if k == 0:
                break
            gradients, count = subject.gradients(returned)
            dx = gradients.get(subject.names[0])
            if returned is None or count is not None or dx is None:
                if returned is None:
                    self.findings.append(say.backward_returned_none(self.names[k], ["x"]))
                else:
                    self.findings.append(
                        say.gradient_count(self.names[k], count or 0, subject.names[:1])
                    )
                return False
            unusable = say.unusable_gradient(self.names[k], f"d{subject.names[0]}", dx)
            if unusable is not None:
                self.findings.append(unusable)
                return False
            dx = np.asarray(dx)
            if dx.shape != subject.inputs[0].shape:
                self.findings.append(
                    say.gradient_shape(
                        self.names[k],
                        f"d{subject.names[0]}",
                        subject.names[0],
                        dx.shape,
                        subject.inputs[0].shape,
                    )
                )
                return False
            dout = dx.astype(self.dtype)
        return True

    def parameter_names(self) -> dict[tuple[int, str], str]:
        """(layer, attribute) → W1, b1, W2, …: numbered by the layers that have parameters."""
        names, index = {}, 0
        for k, subject in enumerate(self.subjects):
            if subject.params:
                index += 1
                for p in subject.params:
                    names[(k, p)] = f"{p}{index}"
        return names


def method_for(subject: Subject, method: Method | None) -> Method:
    """The method asked for; by default the complex step where the catalog vouches that a
    layer's forward is analytic and complex-safe (one forward per group, exact to
    rounding), central differences elsewhere."""
    if method is not None:
        return method
    entry = catalog_entry(subject.layer)
    return get_method("complex-step" if entry is not None and entry.complex_safe else "central")


def describe_methods(net: _Net, method: Method | None, dtype: np.dtype, step) -> str:
    """Which method differentiated which layers, with its step, in words."""
    used: dict[str, list[str]] = {}
    for name, subject in zip(net.names, net.subjects, strict=True):
        used.setdefault(method_for(subject, method).name, []).append(name)
    if len(used) == 1:
        return describe_step(next(iter(used)), dtype, step)
    return _("; ").join(
        _("{method} for {layers}").format(
            method=describe_step(m, dtype, step), layers=listed(layers)
        )
        for m, layers in used.items()
    )


def _local_backward(subject: Subject, upstream: Any) -> dict[str, np.ndarray]:
    """The layer's backward at its checked state, given ``upstream``: {array: gradient}."""
    with np.errstate(all="ignore"):
        subject.output()
        given = np.array(upstream, copy=True) if isinstance(upstream, np.ndarray) else upstream
        returned = subject.call_backward(given)
    gradients, _count = subject.gradients(returned)
    gradients.update(subject.parameter_gradients())
    return {n: np.array(v, dtype=np.float64, copy=True) for n, v in gradients.items()}


def check_network(
    spec_or_layers: str | Sequence[Any],
    x: Any,
    t: Any,
    seed: int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    fast: bool = False,
    step: float | None = None,
    progress: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> NetworkCheck:
    """Check a network's backprop, every parameter end to end and every layer locally.

    Args:
        spec_or_layers: ``"affine:50,relu,affine:10,softmax-with-loss"`` (catalog layers,
            the book's initialisation from ``seed``: weights 0.01·randn, zero biases), or
            a list of layer objects with the note's interface, the last one the loss
            (``forward(x, t)`` returning a scalar).
        x: the input batch; t: the labels (one-hot, or what the loss layer takes).
        seed: seeds the initialisation (for a spec) and the structure probes.
        dtype: ``float64`` (default) or ``float32``.
        method: the numeric method for every local derivative (central by default).
        fast: random projections per layer array (each layer locally, with backprop's
            upstream) instead of every element; whatever disagrees is then checked
            element by element (see ``_fast``).
        step: a fixed step instead of the automatic one.
        progress: draw a progress bar past a second (default: when stderr is a terminal).
        timeout: seconds one call of a layer's forward or backward may run before it is
            stopped (a finding); None for no limit.

    Returns:
        A :class:`~symgrad.checking.report.NetworkCheck`: per parameter the max and mean
        |backprop − numeric| (the book's gradient_check numbers) and a verdict; per
        layer its local verdict; ``broken`` names the layers whose backward is wrong.
    """
    start = time.perf_counter()
    method = None if method is None else get_method(method)
    chosen = choose_dtype(dtype, [x], set())
    rng = seeded_rng(seed)
    model = spec_or_layers if is_model(spec_or_layers) else None
    if isinstance(spec_or_layers, str):
        spec = spec_or_layers
        layers, _shapes = build(spec, np.shape(x), rng, chosen)
    elif model is not None:
        layers = model_layers(model)
        if layers is None:
            raise SymgradError(
                _(
                    "{network} exposes no layers (layers and lastLayer, last_layer or loss_layer): "
                    "symgrad checks a network through its layers"
                ).format(network=class_name(model))
            )
        spec = f"{class_name(model)}: " + " → ".join(layer_names(layers))
    else:
        layers = list(spec_or_layers)
        spec = " → ".join(class_name(layer) for layer in layers)
    guard = Guard(timeout)
    net = _Net(layers, x, t, chosen, guard)
    shapes = {"x": np.shape(x), "t": np.shape(t)}

    def report(**results: Any) -> NetworkCheck:
        return NetworkCheck(
            spec=spec,
            layers=tuple(net.names),
            shapes=shapes,
            dtype=chosen.name,
            seed=seed,
            loss=net.loss,
            seconds=time.perf_counter() - start,
            **results,
        )

    def stopped() -> NetworkCheck:
        return report(
            step=describe_step(method or "central", chosen, step),
            parameters=(),
            local=(),
            findings=tuple(net.findings),
        )

    with (
        ExitStack() as stack,
        guard,
        Progress(_("checking the network"), progress) as tracker,
        one_blas_thread(),
    ):
        try:
            if not (net.forward(stack) and net.backward()):
                return stopped()
            if fast:
                parameters, local, wrong, forwards = _fast(net, method, step, rng, tracker)
            else:
                parameters, local, wrong, forwards = _chain(net, method, step, rng, tracker)
        except UserCodeFailed as failure:  # sys.exit, KeyboardInterrupt, a time-out
            net.findings.append(say.user_code_failed(failure))
            return stopped()
        except Exception as error:
            where = guard.by_user(error)
            if where is None:
                raise
            net.findings.append(say.raised_during_check(where, error))
            return stopped()
    names = net.parameter_names()
    findings = list(net.findings)
    findings += _verdicts(net, parameters, local, wrong, names)
    notes = list(net.notes)
    if model is not None:  # the layers are its own again: its gradient() can be asked
        with guard:
            try:
                extra, note = check_model_gradient(model, layers, net.x, t, guard.call, rng)
            except UserCodeFailed as failure:
                extra, note = [say.user_code_failed(failure)], ""
            except Exception as error:
                where = guard.by_user(error)
                if where is None:
                    raise
                extra, note = [say.raised_during_check(where, error)], ""
        findings += extra
        notes += [note] if note else []
    kinks = sum(g.kinks.count for c in local for g in c.gradients if g.kinks is not None)
    if kinks:
        notes.append(
            _(
                "{count} element(s) sit within a step of a kink; there the backward's "
                "subgradient travels on down the numeric chain"
            ).format(count=kinks)
        )
    return report(
        step=describe_methods(net, method, chosen, step),
        parameters=tuple(parameters),
        local=tuple(local),
        findings=tuple(findings),
        wrong=tuple(wrong),
        forwards=forwards,
        fast=fast,
        notes=tuple(notes),
    )


def _chain(net: _Net, method: Method | None, step, rng, tracker, wanted=None):
    """The numeric chain from the loss down; ``wanted``: only these (layer, array) pairs
    (and whatever upstream gradients they need), for fast mode's drilling down."""
    names = net.parameter_names()
    lowest = 0 if wanted is None else min(k for k, _ in wanted)
    upstream: Any = 1.0
    error = 0.0  # normwise error bound of the numeric upstream
    parameters: list[ParameterCheck] = []
    local: list[LocalCheck] = []
    wrong: list[WrongGradient] = []
    forwards = 0
    for k in reversed(range(lowest, len(net.layers))):
        subject = net.subjects[k]
        out_shape = net.out_shape(k)
        backward = _local_backward(subject, upstream)
        arrays = list(subject.params) + ([subject.names[0]] if k > lowest else [])
        if wanted is not None:
            arrays = [a for a in arrays if (k, a) in wanted or a == subject.names[0]]
        checks: list[GradientCheck] = []
        following = upstream
        waived: list[str] = []
        # The loss: its formula, when known, is a third column, and a backward that is the
        # formula's exact derivative inside a forward that smooths it (log(y + 1e-7)) is
        # accepted, and its gradient, not the numeric one, travels down the chain.
        form, symbolic, deviation = _loss_formula(net, k) if net.is_loss(k) else (None, None, None)
        for array in arrays:
            is_input = array == subject.names[0] and array not in subject.values
            x = subject.inputs[0] if is_input else subject.values[array]
            f = subject.input_function(0) if is_input else subject.parameter_function(array)
            weights = {"ones": np.ones(out_shape)} if error > 0 else {}
            tracker.describe(
                _("checking {layer}: d{array}").format(layer=net.names[k], array=array)
            )
            grouping, _probed = plan(subject, array, f, x, out_shape, rng, tracker, weights)
            try:
                with np.errstate(all="ignore"):
                    verified = verify(
                        f"d{array}",
                        array,
                        backward[array],
                        f,
                        x,
                        upstream,
                        grouping,
                        method_for(subject, method),
                        step,
                        None if symbolic is None else symbolic.get(f"d{array}"),
                    )
            finally:
                subject.install()
            forwards += verified.perturbation.forwards
            checks.append(verified.check)
            accepted = not verified.check.ok and formulas.smoothed(verified.check, deviation)
            if accepted:
                waived.append(verified.check.name)
                net.findings.append(
                    say.smoothed_forward(net.names[k], verified.check.name, form.name, deviation)
                )
            propagated: float | np.ndarray = 0.0
            if verified.reach is not None:  # the upstream's error, carried to each element
                propagated = error * verified.reach
            if not verified.check.ok and not accepted:
                evidence, _finding = say.wrong_gradient(
                    net.names[k],
                    array,
                    verified,
                    net.dtype,
                    axis_meanings({"x": net.x, array: x}),  # x first: its rows are the batch
                    {array: x},
                )
                wrong.append(dataclasses.replace(evidence, layer=net.names[k]))
            if is_input:
                numeric = verified.numeric.values
                kink = verified.sides.kink
                # At a kink the backward's subgradient is the convention that travels on.
                following = np.where(kink, backward[array], numeric).astype(net.dtype)
                following_error = float(np.max(numeric_bound(verified.numeric)[~kink], initial=0.0))
                following_error += float(np.max(propagated, initial=0.0))
                if accepted:  # the formula's exact derivative, which the backward is
                    following = np.asarray(backward[array], dtype=net.dtype)
                    following_error = verified.check.tolerance["backward_vs_symbolic"]
            else:
                parameters.append(
                    _parameter(net, names[(k, array)], k, array, verified, propagated)
                )
        skipped = (f"d{subject.names[0]}",) if k == 0 else ()
        if not net.is_loss(k) or k > lowest or wanted is None:
            local.append(
                LocalCheck(
                    net.names[k], k + 1, tuple(checks), skipped=skipped, waived=tuple(waived)
                )
            )
        if k > lowest:
            upstream, error = following, following_error
    parameters.sort(key=lambda p: list(names.values()).index(p.name))
    local.sort(key=lambda c: c.position)
    return parameters, local, wrong, forwards


def _loss_formula(net: _Net, k: int):
    """The loss layer's formula (its catalog form, or the one its forward is recognised
    as), SymPy's gradient of it at this pass with dout = 1, and how far the layer's own
    forward lies from it; Nones when there is no formula."""
    subject = net.subjects[k]
    out = np.asarray(net.loss)
    form = formulas.resolve(None, subject.layer) or formulas.recognise(subject, out)
    if form is None:
        return None, None, None
    with np.errstate(all="ignore"):
        subject.call_forward()  # the state its backward and SymPy's values see
    try:
        symbolic, _error = formulas.gradients(form, subject, out, 1.0)
    except Exception:  # a formula that does not take these arrays: no third column
        return None, None, None
    if symbolic is None:
        return None, None, None
    return form, symbolic, formulas.deviation(form, subject, out)


def _parameter(net: _Net, name: str, k: int, array: str, verified, propagated):
    """Backprop's gradient of one parameter against the numeric chain's, every element
    against its own bound: the numeric error there plus what the numeric upstream's error
    can move it by (``propagated``, per element)."""
    numeric = verified.numeric
    bp = net.backprop[(k, array)]
    gap = np.abs(bp - numeric.values)
    no_kink = np.zeros(bp.shape, dtype=bool)
    bounds = element_bounds(numeric, element_scale(numeric, bp), no_kink)
    allowed = bounds["backward_vs_numeric"] + 2 * propagated
    ratio = ratios(gap, allowed)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    return ParameterCheck(
        name=name,
        layer=net.names[k],
        shape=bp.shape,
        max_abs=float(np.max(gap, initial=0.0)),
        mean_abs=float(np.mean(gap)) if gap.size else 0.0,
        largest=float(np.max(np.abs(numeric.values), initial=0.0)),
        tolerance=float(allowed[index]),
        index=index,
        difference=float(gap[index]),
        ratio=float(ratio[index]),
        wrong=int(np.sum(ratio > 1)),
    )


def _kinked_elementwise(subject: Subject) -> bool:
    """A catalog layer with kinks whose outputs are element by element (ReLU): --fast
    checks it in full, at about a projection's cost (all elements in one group), because a
    projection's stencil would cross some of its kinks and settle nothing."""
    entry = catalog_entry(subject.layer)
    return entry is not None and not entry.smooth and entry.kind.elementwise


def _fast(net: _Net, method: Method | None, step, rng, tracker):
    """One projection per layer array, locally, with the upstream backprop gave that
    layer: a parameter's against the gradient backprop stored, a layer input's against
    the dx backprop passed down (:func:`symgrad.checking.gradients.project`).

    By the chain rule backprop's gradient of a parameter is the composition of these local
    vector-Jacobian products, so it is right when its own layer's projection and the dx
    projection of every layer above agree. No projection runs the whole network, so none
    crosses a kink but its own layer's, and a catalog ReLU is checked in full instead
    (:func:`_kinked_elementwise`). What disagrees is checked in full locally; a dx found
    wrong there sends every parameter below it through the whole numeric chain."""
    names = net.parameter_names()
    local: list[LocalCheck] = []
    outcome: dict[tuple[int, str], Projection] = {}
    unsettled: set[tuple[int, str]] = set()
    wrong_inputs: set[tuple[int, str]] = set()
    forwards = 0
    for k, subject in enumerate(net.subjects):
        projections = []
        checks: list[GradientCheck] = []
        arrays = list(subject.params) + ([subject.names[0]] if k > 0 else [])
        for array in arrays:
            is_input = array == subject.names[0] and array not in subject.values
            x = subject.inputs[0] if is_input else subject.values[array]
            f = subject.input_function(0) if is_input else subject.parameter_function(array)
            claimed = np.asarray(net.upstream_bp[k - 1] if is_input else net.backprop[(k, array)])
            chosen = method_for(subject, method)
            projection = None
            try:
                with np.errstate(all="ignore"):
                    if not _kinked_elementwise(subject):
                        projected = project(
                            f"d{array}", claimed, f, x, net.upstream_bp[k], chosen, rng
                        )
                        projection = projected.projection
                        forwards += projected.forwards
                    if projection is None or not projected.settled:
                        unsettled.add((k, array))
                        grouping, _probed = plan(
                            subject, array, f, x, net.out_shape(k), rng, tracker
                        )
                        verified = verify(
                            f"d{array}",
                            array,
                            claimed,
                            f,
                            x,
                            net.upstream_bp[k],
                            grouping,
                            chosen,
                            step,
                        )
                        forwards += verified.perturbation.forwards
                        checks.append(verified.check)
                        if is_input and not verified.check.ok:
                            wrong_inputs.add((k, array))
            finally:
                subject.install()
            if projection is None:
                continue
            if (k, array) in unsettled:
                projection = dataclasses.replace(projection, drilled=True)
            outcome[(k, array)] = projection
            projections.append(projection)
        skipped = (f"d{subject.names[0]}",) if k == 0 else ()
        local.append(LocalCheck(net.names[k], k + 1, tuple(checks), tuple(projections), skipped))
    # A dx the full local check then found right is settled too; one found wrong spoils
    # every parameter below it, which the numeric chain then measures end to end.
    doubtful_above = {k for k, array in wrong_inputs}
    drill = {
        (k, array)
        for (k, array) in names
        if (k, array) in unsettled or any(above > k for above in doubtful_above)
    }
    parameters = []
    for (k, array), name in names.items():
        projection = dataclasses.replace(
            outcome[(k, array)], name=name, drilled=(k, array) in drill
        )
        parameters.append(
            ParameterCheck(
                name=name,
                layer=net.names[k],
                shape=net.subjects[k].values[array].shape,
                max_abs=float("nan"),
                mean_abs=float("nan"),
                largest=0.0,
                tolerance=projection.tolerance,
                index=(),
                projection=projection,
            )
        )
    wrong: list[WrongGradient] = []
    if drill:
        full, _local, found, spent = _chain(net, method, step, rng, tracker, wanted=drill)
        forwards += spent
        wrong += found
        by_name = {p.name: p for p in full}
        parameters = [
            dataclasses.replace(by_name[p.name], projection=p.projection)
            if p.name in by_name
            else p
            for p in parameters
        ]
    return parameters, local, wrong, forwards


def _verdicts(net: _Net, parameters, local, wrong, names) -> list[Finding]:
    """The findings that name what is broken: each layer whose own backward disagrees,
    and which parameters that spoils end to end."""
    findings = []
    bad_parameters = [p for p in parameters if not p.ok]
    for check in local:
        if check.ok:
            continue
        k = check.position - 1
        below = [p.name for p in parameters if net.names.index(p.layer) <= k and not p.ok]
        evidence = [w for w in wrong if w.layer == check.layer]
        sentences = [
            _(
                "{layer} (layer {position}) is broken: its backward does not match its forward."
            ).format(layer=check.layer, position=check.position)
        ]
        if evidence:
            w = evidence[0]
            at = f"[{', '.join(map(str, w.index))}]" if w.index else ""
            disagrees = _(
                "Its {gradient} disagrees with its forward's numeric derivative at {wrong} of "
                "{size} elements (worst at {at}: backward {backward}, numeric {numeric} ± "
                "{error})"
            ).format(
                gradient=w.name,
                wrong=w.wrong,
                size=w.size,
                at=f"{w.array}{at}",
                backward=f"{w.backward:.6g}",
                numeric=f"{w.numeric:.6g}",
                error=f"{w.numeric_error:.1g}",
            )
            if w.hints:
                disagrees = _("{sentence}; hint: {hint}").format(
                    sentence=disagrees, hint=w.hints[0]
                )
            sentences.append(_("{sentence}.").format(sentence=disagrees))
        if below:
            sentences.append(
                _("Wrong end to end because of it: {parameters}.").format(parameters=listed(below))
            )
        sentences.append(_("Fix {layer}.backward.").format(layer=check.layer))
        findings.append(
            Finding(
                "broken-layer",
                functools.reduce(say.then, sentences),
                subject=check.layer,
            )
        )
    if bad_parameters and all(c.ok for c in local):
        bad = listed(p.name for p in bad_parameters)
        findings.append(
            Finding(
                "wrong-gradient",
                ngettext(
                    "{parameters} disagrees end to end although every layer agrees locally: "
                    "the network's backward pass does not chain the layers' backwards the way "
                    "its forward chains their forwards (an order or a dout lost?).",
                    "{parameters} disagree end to end although every layer agrees locally: "
                    "the network's backward pass does not chain the layers' backwards the way "
                    "its forward chains their forwards (an order or a dout lost?).",
                    len(bad_parameters),
                ).format(parameters=bad),
            )
        )
    return findings


__all__ = ["build", "check_network", "layer_names", "parse_spec", "spec_shapes"]
