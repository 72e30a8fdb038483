"""Whole networks as the books write them: a network object with its own gradient.

The book's networks (``TwoLayerNet``, ``MultiLayerNet``) keep their parameters in a dict
``params``, compute ``loss(x, t)`` and return their own ``gradient(x, t)``, a dict of
the same keys; the sequel's keep ``params`` and ``grads`` lists and have
``forward(x, t)`` (the loss) and ``backward()``. Both expose their layers (``layers``,
a dict or a list, and ``lastLayer`` / ``last_layer`` / ``loss_layer``).

The layers are checked by :func:`symgrad.checking.network.check_network`'s numeric chain,
every element. What the network adds to that is checked here: its ``gradient()`` must be
backprop through those layers plus the gradient of whatever ``loss()`` adds to the last
layer's loss (a weight-decay term). That extra part R(θ) = loss(θ) − the layers' loss(θ)
is differenced along random directions: kink crossings (ReLU) happen in both terms alike
and cancel, so a projection of R is clean even through a deep network. A gradient that is
not backprop + ∇R (a bookkeeping slip, a weight-decay term added twice) disagrees there,
and the parameter it is in is named by projecting each parameter on its own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad.checking.objects import RESEED, State, class_name, list_slots
from symgrad.checking.report import Finding
from symgrad.comparison.tolerance import exact_tolerance
from symgrad.i18n import _
from symgrad.numeric.differences import ROUNDING_ULPS

LAST_LAYER = ("lastLayer", "last_layer", "loss_layer")
DIRECTIONS = 3  # independent random directions for the network's extra terms


def is_model(obj: Any) -> bool:
    """A network object in one of the books' conventions (not a list of layers)."""
    if isinstance(obj, list | tuple | str):
        return False
    book = callable(getattr(obj, "gradient", None)) and callable(getattr(obj, "loss", None))
    sequel = isinstance(getattr(obj, "params", None), list) and callable(
        getattr(obj, "backward", None)
    )
    return (book and isinstance(getattr(obj, "params", None), dict)) or (
        sequel and isinstance(getattr(obj, "grads", None), list)
    )


def model_layers(obj: Any) -> list[Any] | None:
    """The network's layers in forward order, its loss layer last; None when it does not
    expose them."""
    layers = getattr(obj, "layers", None)
    last = next((getattr(obj, n) for n in LAST_LAYER if getattr(obj, n, None) is not None), None)
    if layers is None or last is None:
        return None
    ordered = list(layers.values()) if isinstance(layers, dict) else list(layers)
    return [*ordered, last]


@dataclass
class _Parameters:
    """The network's parameters (the arrays themselves) and their names."""

    names: list[str]
    arrays: list[np.ndarray]


def _parameters(obj: Any) -> _Parameters:
    params = obj.params
    if isinstance(params, dict):
        return _Parameters(list(params), [params[k] for k in params])
    return _Parameters([f"params[{k}]" for k in range(len(params))], list(params))


def _own_gradient(obj: Any, x: Any, t: Any, call: Callable) -> list[np.ndarray]:
    """What the network itself says its gradient is, by parameter, copied."""
    np.random.seed(RESEED)  # every pass through the layers draws the same dropout masks
    if isinstance(obj.params, dict):
        grads = call(f"{class_name(obj)}.gradient", obj.gradient, x, t)
        return [np.array(grads[k], dtype=np.float64, copy=True) for k in obj.params]
    call(f"{class_name(obj)}.forward", obj.forward, x, t)
    call(f"{class_name(obj)}.backward", obj.backward)
    return [np.array(g, dtype=np.float64, copy=True) for g in obj.grads]


def _loss(obj: Any, x: Any, t: Any, call: Callable) -> float:
    np.random.seed(RESEED)
    if callable(getattr(obj, "loss", None)) and isinstance(obj.params, dict):
        loss = obj.loss
        if "train_flg" in inspect.signature(loss).parameters:
            loss = functools.partial(loss, train_flg=True)  # as gradient() computes it
        return float(call(f"{class_name(obj)}.loss", loss, x, t))
    return float(call(f"{class_name(obj)}.forward", obj.forward, x, t))


def _layers_loss(layers: Sequence[Any], x: Any, t: Any, call: Callable) -> float:
    np.random.seed(RESEED)
    h = x
    for layer in layers[:-1]:
        h = call(f"{class_name(layer)}.forward", layer.forward, h)
    return float(call(f"{class_name(layers[-1])}.forward", layers[-1].forward, h, t))


def _backprop(layers: Sequence[Any], x: Any, t: Any, call: Callable) -> dict[int, np.ndarray]:
    """Backprop through the layers: id(parameter array) → its gradient (copied)."""
    _layers_loss(layers, x, t, call)
    dout: Any = 1.0
    found: dict[int, np.ndarray] = {}
    for layer in reversed(layers):
        dout = call(f"{class_name(layer)}.backward", layer.backward, dout)
        if isinstance(dout, tuple):
            dout = dout[0]
        for slot in list_slots(layer):
            found[id(slot.get(layer))] = np.array(slot.gradient(layer), dtype=np.float64)
        for name, value in vars(layer).items():
            gradient = getattr(layer, f"d{name}", None)
            if isinstance(value, np.ndarray) and np.shape(gradient) == value.shape:
                found.setdefault(id(value), np.array(gradient, dtype=np.float64))
    return found


def check_model_gradient(
    obj: Any,
    layers: Sequence[Any],
    x: Any,
    t: Any,
    call: Callable,
    rng: np.random.Generator,
) -> tuple[list[Finding], str]:
    """The network's own gradient against backprop through its layers plus the numeric
    gradient of what its loss adds to theirs. Returns the findings and a note saying what
    was checked. The network is left exactly as it was."""
    name = class_name(obj)
    states = [State(obj), *(State(layer) for layer in layers)]
    global_random = np.random.get_state()
    try:
        parameters = _parameters(obj)
        saved = [np.array(a, copy=True) for a in parameters.arrays]
        own = _own_gradient(obj, x, t, call)
        through = _backprop(layers, x, t, call)
        extra = [g - through.get(id(a), 0.0) for g, a in zip(own, parameters.arrays, strict=True)]
        findings = []
        if not _agrees(obj, layers, x, t, call, rng, parameters, saved, extra, range(len(own))):
            for k, key in enumerate(parameters.names):
                if not _agrees(obj, layers, x, t, call, rng, parameters, saved, extra, [k]):
                    findings.append(_wrong(name, key, parameters, own, through, k))
            if not findings:  # only together: say so rather than blame one
                findings.append(_wrong(name, "(all together)", parameters, own, through, None))
    finally:
        for state in states:
            state.restore()
        np.random.set_state(global_random)
    note = _(
        "{name}'s own gradient() checked: every parameter is backprop through its layers "
        "(checked element by element above) plus the gradient of what loss() adds to the "
        "layers' loss, that part by {count} random projections"
    ).format(name=name, count=DIRECTIONS)
    return findings, note


def _agrees(obj, layers, x, t, call, rng, parameters, saved, extra, which) -> bool:
    """⟨v, extra⟩ against the numeric derivative of R = loss − layers' loss along v, over
    the parameters ``which``, for DIRECTIONS directions."""
    for _draw in range(DIRECTIONS):
        directions = {
            k: rng.standard_normal(saved[k].shape) * np.maximum(1.0, np.abs(saved[k]))
            for k in which
        }

        def residual(step: float, directions=directions) -> tuple[float, float]:
            for k, v in directions.items():
                parameters.arrays[k][...] = saved[k] + step * v
            total, part = _loss(obj, x, t, call), _layers_loss(layers, x, t, call)
            return total - part, abs(total) + abs(part)

        h = 2.0 * float(np.finfo(np.float64).eps) ** (1 / 3)
        try:
            (up, size), (down, _size) = residual(h), residual(-h)
            (up2, _size), (down2, _size) = residual(2 * h), residual(-2 * h)
        finally:
            for k in directions:
                parameters.arrays[k][...] = saved[k]
        numeric = (up - down) / (2 * h)
        truncation = abs((up2 - down2) / (4 * h) - numeric) / 3
        claimed = sum(float(np.sum(directions[k] * extra[k])) for k in which)
        terms = sum(float(np.sum(np.abs(directions[k] * extra[k]))) for k in which)
        allowed = 2 * truncation + 2 * ROUNDING_ULPS * np.finfo(np.float64).eps * size / h
        allowed += exact_tolerance(np.float64, terms) + 1e-300
        if not abs(claimed - numeric) <= allowed:
            return False
    return True


def _wrong(name, key, parameters, own, through, k) -> Finding:
    if k is None:
        return Finding(
            "model-gradient",
            _(
                "{name}.gradient() is not the gradient of its loss(): it disagrees along "
                "random directions through all the parameters together, though no one "
                "parameter alone shows it."
            ).format(name=name),
        )
    array = parameters.arrays[k]
    backprop = through.get(id(array))
    if backprop is None:
        detail = _("no layer holds this array, so its gradient cannot come from backprop")
    else:
        gap = float(np.max(np.abs(own[k] - backprop), initial=0.0))
        detail = _(
            "it differs from backprop through the layers by up to {gap}, and that difference "
            "is not the derivative of what loss() adds (for weight decay ½λΣW², λW once)"
        ).format(gap=f"{gap:.3g}")
        same = [
            other
            for j, other in enumerate(parameters.names)
            if j != k
            and through.get(id(parameters.arrays[j])) is not None
            and through[id(parameters.arrays[j])].shape == own[k].shape
            and np.allclose(own[k], through[id(parameters.arrays[j])], rtol=1e-12, atol=0)
        ]
        if same:
            detail = _(
                "{detail}; it equals the gradient of {other}: the wrong layer's gradient"
            ).format(detail=detail, other=same[0])
        elif np.array_equal(own[k], backprop):
            detail = _(
                "it is backprop through the layers alone, but loss() adds a term that "
                "depends on it (weight decay?) whose gradient it leaves out"
            )
    return Finding(
        "model-gradient",
        _("{name}.gradient()[{key}] is not the gradient of {name}.loss(): {detail}.").format(
            name=name, key=repr(key), detail=detail
        ),
        subject=key,
    )
