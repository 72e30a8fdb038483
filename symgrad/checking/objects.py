"""Driving a user's layer object: its inputs' names, its parameters, its calls.

The note's interface is all symgrad assumes: ``forward(*inputs)`` returns the output;
``backward(dout)`` returns one gradient per differentiated input (a tuple when there are
several) and stores each parameter's gradient as ``d<name>`` (``dW`` for ``W``).
Parameters are array attributes found by that convention. Everything the layer is
handed is a copy, so nothing it does can reach the caller's arrays. Every call into the
layer goes through the subject's :class:`~symgrad.checking.containment.Guard`.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad.checking.containment import UNGUARDED, Guard
from symgrad.errors import SymgradError
from symgrad.i18n import _, ngettext
from symgrad.layers import CATALOG
from symgrad.layers.spec import Layer


def class_name(layer: Any) -> str:
    return type(layer).__name__


def input_names(layer: Any, count: int) -> tuple[str, ...]:
    """forward's parameter names for ``count`` inputs (``x``, ``t``), checked against its
    signature; ``x1``, ``x2``, … where it takes ``*args`` or has no signature.

    Raises:
        SymgradError: when forward cannot take ``count`` positional arrays.
    """
    try:
        signature = inspect.signature(layer.forward)
    except (TypeError, ValueError, AttributeError):
        return tuple(f"x{k + 1}" for k in range(count))
    names: list[str] = []
    variadic = False
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            names.append(parameter.name)
        elif parameter.kind == parameter.VAR_POSITIONAL:
            variadic = True
    required = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if count < len(required) or (count > len(names) and not variadic):
        takes = ", ".join(names) or _("nothing")
        raise SymgradError(
            ngettext(
                "{layer}.forward takes {count} array ({takes}), got {given}",
                "{layer}.forward takes {count} arrays ({takes}), got {given}",
                len(required),
            ).format(layer=class_name(layer), count=len(required), takes=takes, given=count)
        )
    named = names[:count]
    return (*named, *(f"x{k + 1}" for k in range(len(named), count)))


def catalog_entry(layer: Any) -> Layer | None:
    """The catalog layer whose forward this object runs (a subclass with its own backward
    still counts: the structure of the Jacobian is the forward's)."""
    forward = getattr(type(layer), "forward", None)
    for entry in CATALOG:
        if forward is entry.numpy_class.forward:
            return entry
    return None


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.inexact)


def array_attributes(layer: Any) -> dict[str, np.ndarray]:
    """The layer's public floating-point array attributes, in definition order."""
    try:
        items = vars(layer).items()
    except TypeError:  # __slots__: no instance dict
        return {}
    arrays = {
        name: value for name, value in items if not name.startswith("_") and _is_float_array(value)
    }
    # dW beside W is W's gradient (a layer may create it in __init__), not a parameter.
    return {name: v for name, v in arrays.items() if not (name[:1] == "d" and name[1:] in arrays)}


@dataclass(frozen=True)
class Slot:
    """Where one parameter lives in a layer object, and where backward leaves its gradient.

    ``key`` None: the attribute ``attribute`` itself (the book's ``W``, gradient ``dW``);
    otherwise an entry of the list or dict it holds (the sequel's ``params[0]``, gradient
    ``grads[0]``, written in place).
    """

    name: str
    attribute: str
    key: int | str | None = None
    gradient_attribute: str | None = None
    # Attributes that hold the very same array (the sequel's TimeEmbedding keeps its W as
    # self.W and as params[0], and forward reads self.W): set together with the entry.
    aliases: tuple[str, ...] = ()

    def get(self, layer: Any) -> Any:
        holder = getattr(layer, self.attribute)
        return holder if self.key is None else holder[self.key]

    def set(self, layer: Any, value: Any) -> None:
        if self.key is None:
            setattr(layer, self.attribute, value)
        else:
            getattr(layer, self.attribute)[self.key] = value
        for alias in self.aliases:
            setattr(layer, alias, value)

    def gradient(self, layer: Any) -> Any:
        """What backward left as this parameter's gradient (None when nothing)."""
        if self.gradient_attribute is None:
            return None
        holder = getattr(layer, self.gradient_attribute, None)
        if self.key is None or holder is None:
            return holder
        try:
            return holder[self.key]
        except (IndexError, KeyError, TypeError):
            return None


UNPACKED = re.compile(r"^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*,?\s*=\s*self\.params\b", re.M)


def _list_names(layer: Any, count: int) -> list[str]:
    """The names forward unpacks its ``params`` into (``W, b = self.params``), read from
    its source text (never run), else ``params[0]``, ``params[1]``, …"""
    try:
        source = inspect.getsource(type(layer).forward)
    except (OSError, TypeError):
        source = ""
    match = re.search(
        r"^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*,?\s*=\s*self\.params\b", source, re.M
    )
    if match:
        names = [n.strip() for n in match.group(1).split(",") if n.strip()]
        if len(names) == count and len(set(names)) == count:
            return names
    return [f"params[{k}]" for k in range(count)]


def list_slots(layer: Any) -> tuple[Slot, ...]:
    """The sequel's convention: ``self.params`` and ``self.grads``, lists of arrays of the
    same shapes, matched by position; () when the layer does not follow it."""
    params, grads = getattr(layer, "params", None), getattr(layer, "grads", None)
    if not isinstance(params, list) or not isinstance(grads, list) or not params:
        return ()
    if len(params) != len(grads) or not all(
        _is_float_array(p) and isinstance(g, np.ndarray) and g.shape == p.shape
        for p, g in zip(params, grads, strict=True)
    ):
        return ()
    names = _list_names(layer, len(params))
    held = vars(layer) if hasattr(layer, "__dict__") else {}

    def aliases(array: np.ndarray) -> tuple[str, ...]:
        return tuple(n for n, v in held.items() if v is array and n not in ("params", "grads"))

    slots = []
    for k, name in enumerate(names):
        same = aliases(params[k])
        if name.startswith("params[") and same and same[0] not in names:
            name = same[0]  # the name forward reads it by
        slots.append(Slot(name, "params", k, "grads", same))
    return tuple(slots)


ENTRY = re.compile(r"^([A-Za-z_]\w*)\[(?:(\d+)|'([^']*)'|\"([^\"]*)\")\]$")


def named_slot(layer: Any, text: str) -> Slot:
    """``params=`` names a parameter as an attribute (``W``) or an entry of one
    (``params[0]``, ``params['W1']``); its gradient is ``dW``, or the same entry of
    ``grads``."""
    match = ENTRY.match(text)
    if match is None:
        return Slot(text, text, None, f"d{text}")
    attribute, index, *quoted = match.groups()
    key: int | str = int(index) if index is not None else next(q for q in quoted if q is not None)
    gradient = "grads" if attribute == "params" else f"d{attribute}"
    return Slot(text, attribute, key, gradient)


def _snapshot(value: Any) -> Any:
    """A copy deep enough to put an attribute back as it was: arrays, and lists, tuples
    and dicts of arrays (one level: the sequel's params, a network's dict)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [v.copy() if isinstance(v, np.ndarray) else v for v in value]
    if isinstance(value, dict):
        return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in value.items()}
    return value


def _restore(original: Any, saved: Any) -> None:
    """Put the contents of a mutable attribute back (its identity never changed)."""
    if isinstance(original, np.ndarray) and original.flags.writeable:
        np.copyto(original, saved, casting="unsafe")
    elif isinstance(original, list):
        original[:] = saved
    elif isinstance(original, dict):
        original.clear()
        original.update(saved)


class State:
    """An object's attributes as they were: restored exactly, bindings and contents, so
    that a check leaves the user's layer (and the arrays it holds) as it found it."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        try:
            self.bindings = dict(vars(obj))
        except TypeError:  # __slots__: nothing symgrad can snapshot or disturb
            self.bindings = {}
        self.contents = {k: _snapshot(v) for k, v in self.bindings.items()}
        # Arrays inside lists and dicts keep their identity too (grads written in place).
        self.inner = [
            (v, v.copy())
            for container in self.bindings.values()
            if isinstance(container, list | dict)
            for v in (container.values() if isinstance(container, dict) else container)
            if isinstance(v, np.ndarray)
        ]

    def restore(self) -> None:
        try:
            current = vars(self.obj)
        except TypeError:
            return
        for name in [n for n in current if n not in self.bindings]:
            delattr(self.obj, name)  # what the check (or the layer, during it) added
        for name, value in self.bindings.items():
            _restore(value, self.contents[name])
            setattr(self.obj, name, value)
        for array, saved in self.inner:
            _restore(array, saved)


RESEED = 20_240_101  # NumPy's global generator, reseeded to this before every held forward


class Held:
    """What a held forward starts from: the same random numbers, and optionally the same
    attributes, every call."""

    def __init__(self, layer: Any, slots: Mapping[str, Slot], state: bool) -> None:
        self.layer = layer
        self.generators = [
            (value, _generator_state(value))
            for value in _attribute_values(layer)
            if _generator_state(value) is not None
        ]
        # The parameters are set by the check itself; everything else goes back.
        held = {s.attribute for s in slots.values()} | {"grads"}
        self.state = None
        if state:
            self.state = State(layer)
            self.state.bindings = {k: v for k, v in self.state.bindings.items() if k not in held}
            self.state.contents = {k: self.state.contents[k] for k in self.state.bindings}
            self.state.inner = []

    def reset(self) -> None:
        np.random.seed(RESEED)
        for generator, saved in self.generators:
            _set_generator_state(generator, saved)
        if self.state is not None:
            for name, value in self.state.bindings.items():
                _restore(value, self.state.contents[name])
                setattr(self.layer, name, value)


def _attribute_values(layer: Any) -> list[Any]:
    try:
        return list(vars(layer).values())
    except TypeError:
        return []


def _generator_state(value: Any) -> Any:
    if isinstance(value, np.random.Generator):
        return value.bit_generator.state
    if isinstance(value, np.random.RandomState):
        return value.get_state()
    return None


def _set_generator_state(generator: Any, state: Any) -> None:
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = state
    else:
        generator.set_state(state)


class Subject:
    """A layer object under check: copies of its inputs and parameters, and its calls.

    Parameters are found by convention, never as "any float array": an attribute ``W``
    for which backward stores a ``dW`` of its shape (the book's layers), the sequel's
    ``params``/``grads`` lists, or the names given in ``params``. Arrays forward replaces
    on every call (``self.x``, ``self.out``, a mask) are caches, left alone.

    Args:
        layer: the object.
        inputs: the arrays forward takes, in order (labels included).
        constants: positions of inputs not differentiated (labels).
        dtype: what differentiated inputs and parameters are cast to.
        params: parameter names (attributes, or entries ``params[0]``, ``params['W1']``);
            None to find them by convention (see :meth:`settle_parameters`).
        names: the inputs' names; by default forward's parameter names.
        guard: what runs every call of forward and backward (a time limit, sys.exit
            and KeyboardInterrupt turned into findings); by default none.
        keywords: keyword arguments every forward call gets (``train_flg=True``).
    """

    def __init__(
        self,
        layer: Any,
        inputs: Sequence[Any],
        constants: Sequence[int],
        dtype: np.dtype,
        params: Sequence[str] | None,
        names: Sequence[str] | None = None,
        guard: Guard = UNGUARDED,
        keywords: Mapping[str, Any] | None = None,
    ) -> None:
        self.layer = layer
        self.keywords = dict(keywords or {})
        self.name = class_name(layer)
        self.guard = guard
        self.calls = f"{self.name}.forward", f"{self.name}.backward"  # where, for the guard
        self.names = tuple(names) if names is not None else input_names(layer, len(inputs))
        bad = [c for c in constants if not 0 <= c < len(inputs)]
        if bad:
            raise SymgradError(
                _("constants {bad} are not positions of the {count} inputs").format(
                    bad=bad, count=len(inputs)
                )
            )
        self.constants = frozenset(constants)
        self.dtype = np.dtype(dtype)
        self.inputs = [
            np.array(x, dtype=self.dtype if k not in self.constants else None, copy=True)
            for k, x in enumerate(inputs)
        ]
        self.explicit = params is not None
        if params is not None:
            slots = tuple(named_slot(layer, p) for p in params)
            missing = [s.name for s in slots if not _is_float_array(_get(s, layer))]
            if missing:
                raise SymgradError(
                    _("{name} has no floating-point array {names}").format(
                        name=self.name, names=", ".join(missing)
                    )
                )
        else:
            slots = list_slots(layer) or tuple(
                Slot(n, n, None, f"d{n}") for n in array_attributes(layer)
            )
        self.slots = {slot.name: slot for slot in slots}
        # Until the first backward, every attribute array is a candidate parameter.
        self.candidates = tuple(s.name for s in slots if s.key is None and not self.explicit)
        self.params: tuple[str, ...] = () if self.candidates else tuple(self.slots)
        self.values = {n: np.array(s.get(layer), dtype=self.dtype) for n, s in self.slots.items()}
        self.copy_inputs = False  # set when forward writes into its inputs
        self.state: State | None = None
        self.held: Held | None = None
        self.outputs: tuple[tuple[int, ...], ...] | None = None  # see several_outputs

    @property
    def differentiated(self) -> tuple[int, ...]:
        return tuple(k for k in range(len(self.inputs)) if k not in self.constants)

    @property
    def differentiated_names(self) -> tuple[str, ...]:
        return tuple(self.names[k] for k in self.differentiated)

    @contextmanager
    def borrowed(self) -> Iterator[Subject]:
        """Within: the layer holds private copies of its parameters (in the check's dtype);
        after: exactly its own state again, whatever the check or the layer did."""
        self.state = State(self.layer)
        global_random = np.random.get_state()  # a check never moves the caller's stream
        try:
            self.install()
            yield self
        finally:
            self.state.restore()
            np.random.set_state(global_random)

    def install(self) -> None:
        """Put the check's parameter values (fresh copies) into the layer; a gradient list
        entry gets a fresh zero array of the check's dtype to be written into."""
        for name, value in self.values.items():
            slot = self.slots[name]
            slot.set(self.layer, value.copy())
            if slot.key is not None and slot.gradient_attribute == "grads":
                grads = getattr(self.layer, "grads", None)
                if isinstance(grads, list | dict):
                    grads[slot.key] = np.zeros_like(value)

    def upstream(self, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
        """The upstream gradient ``dout`` a check hands backward: random normal of the
        output's shape (so that a transpose or a misplaced sum cannot hide), 1 for a
        scalar output."""
        return 1.0 if not shape else rng.standard_normal(shape).astype(self.dtype)

    def known_couplings(
        self, shape: tuple[int, ...], out_shape: tuple[int, ...]
    ) -> tuple[tuple[int, int], ...] | None:
        """The Jacobian's structure when the subject knows it without the catalog or a
        probe (symgrad.numeric.structure); None here: a layer object says nothing."""
        return None

    def call_forward(self, replace: dict[int, np.ndarray] | None = None) -> tuple[Any, list]:
        """forward on the inputs (``replace``: position → other values), copied when
        ``copy_inputs`` is set; returns the output and the arrays actually passed (to see
        whether forward wrote into them)."""
        passed = [np.array(x, copy=True) if self.copy_inputs else x for x in self.inputs]
        if replace:
            for k, value in replace.items():
                passed[k] = value
        forward = self._forward()
        return self.guard.call(self.calls[0], forward, *passed), passed

    def _forward(self) -> Any:
        """forward, with the check's keyword arguments bound, and, once the layer has been
        seen to be random or to keep state (:meth:`hold_fixed`), with its randomness and
        its state put back before every call."""
        forward = self.layer.forward
        if self.keywords:
            forward = functools.partial(forward, **self.keywords)
        if self.outputs is not None:
            forward = _concatenated(forward)
        if self.held is None:
            return forward
        held = self.held

        def fixed(*args: Any) -> Any:
            held.reset()
            return forward(*args)

        return fixed

    def recast(self, dtype: np.dtype) -> None:
        """Check in ``dtype`` from now on: the differentiated inputs and the parameters
        are cast to it and put into the layer."""
        self.dtype = np.dtype(dtype)
        self.inputs = [
            x if k in self.constants else x.astype(self.dtype) for k, x in enumerate(self.inputs)
        ]
        self.values = {n: v.astype(self.dtype) for n, v in self.values.items()}
        self.install()

    def hold_fixed(self, state: bool) -> None:
        """From now on every forward starts from the same randomness (NumPy's global
        generator reseeded, generators the layer owns rewound) and, with ``state``, from
        the same attributes (a stateful layer's carried-over hidden state): a dropout mask
        is then the same in every forward, and forward a function of its arguments."""
        self.held = Held(self.layer, self.slots, state)

    def call_backward(self, dout: Any) -> Any:
        """backward on ``dout`` as given (the caller copies it to see writes into it); for a
        forward of several outputs, on one upstream gradient per output."""
        if self.outputs is None:
            return self.guard.call(self.calls[1], self.layer.backward, dout)
        flat = np.ravel(dout)
        bounds = np.cumsum([math.prod(shape) for shape in self.outputs])[:-1]
        parts = [p.reshape(s) for p, s in zip(np.split(flat, bounds), self.outputs, strict=True)]
        return self.guard.call(self.calls[1], self.layer.backward, *parts)

    def several_outputs(self, out: Any) -> bool:
        """A forward returning a tuple of float arrays (the sequel's LSTM: ``(h, c)``) is
        checked as one whose output is their concatenation, each part with its own
        random upstream gradient, and backward is given one per output, in order."""
        if not isinstance(out, tuple) or len(out) < 2 or self.outputs is not None:
            return False
        if not all(isinstance(o, np.ndarray) and np.issubdtype(o.dtype, np.floating) for o in out):
            return False
        self.outputs = tuple(o.shape for o in out)
        return True

    def output(self, replace: dict[int, np.ndarray] | None = None) -> Any:
        """forward's output alone; inputs are passed as they are (no copy) unless forward
        was seen to write into them, because this runs for every perturbation."""
        return self.call_forward(replace)[0]

    def input_function(self, position: int):
        """forward as a function of input ``position`` alone."""
        if self.copy_inputs:
            return lambda value: self.output({position: value})
        call, where, forward, before, after = (
            self.guard.call,
            self.calls[0],
            self._forward(),
            self.inputs[:position],
            self.inputs[position + 1 :],
        )
        # Runs once per perturbation: the arguments are bound once, not rebuilt per call.
        return lambda value: call(where, forward, *before, value, *after)

    def parameter_function(self, name: str):
        """forward as a function of parameter ``name`` alone (put in its slot)."""
        layer, forward, inputs = self.layer, self._forward(), tuple(self.inputs)
        call, where, put = self.guard.call, self.calls[0], self.slots[name].set

        def f(value: np.ndarray) -> Any:
            put(layer, value)
            return self.output() if self.copy_inputs else call(where, forward, *inputs)

        return f

    def settle_parameters(self, rebound: set[str]) -> tuple[str, ...]:
        """After the first backward, for parameters found by the attribute convention: the
        candidate arrays forward did not replace (those are caches, as is any array named
        like an input) that have a ``d<name>`` attribute. The rest are no parameters
        and are left alone from here on. Returns the candidates that look like parameters
        (kept as they are by forward) but have no gradient stored."""
        if not self.candidates:
            return ()
        kept = [n for n in self.candidates if n not in rebound and n not in self.names]
        # A d<name> attribute, even None after backward, says the author meant a gradient.
        self.params = tuple(n for n in kept if hasattr(self.layer, f"d{n}"))
        self.values = {n: self.values[n] for n in self.params}
        self.slots = {n: self.slots[n] for n in self.params}
        unknown = tuple(n for n in kept if n not in self.params)
        self.candidates = ()
        return unknown

    def gradients(self, returned: Any) -> tuple[dict[str, Any], int | None]:
        """backward's return value as ``{input name: gradient}``; and how many it returned
        when that is not a count symgrad can use (else None)."""
        wanted = self.differentiated
        values = list(returned) if isinstance(returned, tuple | list) else [returned]
        if len(wanted) == 0:
            return {}, None
        if len(values) == len(wanted):
            chosen = values
        elif len(values) == len(self.inputs) and len(wanted) < len(self.inputs):
            chosen = [values[k] for k in wanted]  # a gradient for the labels too: ignored
        else:
            return {}, len(values)
        return dict(zip((self.names[k] for k in wanted), chosen, strict=True)), None

    def parameter_gradients(self) -> dict[str, Any]:
        """What backward left as each parameter's gradient, copied (the sequel's grads are
        written in place, and the next backward would overwrite them)."""
        gradients = {p: self.slots[p].gradient(self.layer) for p in self.params}
        return {p: _copied(g) for p, g in gradients.items()}


def _concatenated(forward: Any) -> Any:
    """forward with its several outputs raveled into one array."""

    def joined(*args: Any) -> Any:
        out = forward(*args)
        if not isinstance(out, tuple):
            return out
        return np.concatenate([np.ravel(o) for o in out])

    return joined


def _copied(value: Any) -> Any:
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _get(slot: Slot, layer: Any) -> Any:
    try:
        return slot.get(layer)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
