"""Driving a user's layer object: its inputs' names, its parameters, its calls.

The note's interface is all symgrad assumes: ``forward(*inputs)`` returns the output;
``backward(dout)`` returns one gradient per differentiated input (a tuple when there are
several) and stores each parameter's gradient as ``d<name>`` (``dW`` for ``W``).
Parameters are array attributes found by that convention. Everything the layer is
handed is a copy, so nothing it does can reach the caller's arrays. Every call into the
layer goes through the subject's :class:`~symgrad.checking.containment.Guard`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from symgrad.checking.containment import UNGUARDED, Guard
from symgrad.errors import SymgradError
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
        takes = ", ".join(names) or "nothing"
        raise SymgradError(
            f"{class_name(layer)}.forward takes {len(required)} array"
            f"{'s' * (len(required) != 1)} ({takes}), got {count}"
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


class Subject:
    """A layer object under check: copies of its inputs and parameters, and its calls.

    Args:
        layer: the object.
        inputs: the arrays forward takes, in order (labels included).
        constants: positions of inputs not differentiated (labels).
        dtype: what differentiated inputs and parameters are cast to.
        params: parameter names; None to find them by convention (see
            :meth:`settle_parameters`).
        names: the inputs' names; by default forward's parameter names.
        guard: what runs every call of forward and backward (a time limit, sys.exit
            and KeyboardInterrupt turned into findings); by default none.
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
    ) -> None:
        self.layer = layer
        self.name = class_name(layer)
        self.guard = guard
        self.calls = f"{self.name}.forward", f"{self.name}.backward"  # where, for the guard
        self.names = tuple(names) if names is not None else input_names(layer, len(inputs))
        bad = [c for c in constants if not 0 <= c < len(inputs)]
        if bad:
            raise SymgradError(f"constants {bad} are not positions of the {len(inputs)} inputs")
        self.constants = frozenset(constants)
        self.dtype = np.dtype(dtype)
        self.inputs = [
            np.array(x, dtype=self.dtype if k not in self.constants else None, copy=True)
            for k, x in enumerate(inputs)
        ]
        self.explicit = params is not None
        found = array_attributes(layer)
        if params is not None:
            missing = [p for p in params if not _is_float_array(getattr(layer, p, None))]
            if missing:
                raise SymgradError(
                    f"{self.name} has no floating-point array attribute {', '.join(missing)}"
                )
            found = {p: getattr(layer, p) for p in params}
        self.candidates = tuple(found)
        self.params: tuple[str, ...] = tuple(found) if params is not None else ()
        self.originals = {p: getattr(layer, p) for p in found}
        self.values = {p: np.array(v, dtype=self.dtype, copy=True) for p, v in found.items()}
        self.copy_inputs = False  # set when forward writes into its inputs

    @property
    def differentiated(self) -> tuple[int, ...]:
        return tuple(k for k in range(len(self.inputs)) if k not in self.constants)

    @property
    def differentiated_names(self) -> tuple[str, ...]:
        return tuple(self.names[k] for k in self.differentiated)

    @contextmanager
    def borrowed(self) -> Iterator[Subject]:
        """Within: the layer holds private copies of its parameters (in the check's dtype);
        after: its own arrays again, untouched whatever the check or the layer did."""
        try:
            self.install()
            yield self
        finally:
            for name, value in self.originals.items():
                setattr(self.layer, name, value)

    def install(self) -> None:
        """Put the check's parameter values (fresh copies) into the layer."""
        for name, value in self.values.items():
            setattr(self.layer, name, value.copy())

    def call_forward(self, replace: dict[int, np.ndarray] | None = None) -> tuple[Any, list]:
        """forward on the inputs (``replace``: position → other values), copied when
        ``copy_inputs`` is set; returns the output and the arrays actually passed (to see
        whether forward wrote into them)."""
        passed = [np.array(x, copy=True) if self.copy_inputs else x for x in self.inputs]
        if replace:
            for k, value in replace.items():
                passed[k] = value
        return self.guard.call(self.calls[0], self.layer.forward, *passed), passed

    def call_backward(self, dout: Any) -> Any:
        """backward on ``dout`` as given (the caller copies it to see writes into it)."""
        return self.guard.call(self.calls[1], self.layer.backward, dout)

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
            self.layer.forward,
            self.inputs[:position],
            self.inputs[position + 1 :],
        )
        # Runs once per perturbation: the arguments are bound once, not rebuilt per call.
        return lambda value: call(where, forward, *before, value, *after)

    def parameter_function(self, name: str):
        """forward as a function of parameter ``name`` alone (set as the attribute)."""
        layer, forward, inputs = self.layer, self.layer.forward, tuple(self.inputs)
        call, where = self.guard.call, self.calls[0]

        def f(value: np.ndarray) -> Any:
            setattr(layer, name, value)
            return self.output() if self.copy_inputs else call(where, forward, *inputs)

        return f

    def settle_parameters(self, rebound: set[str]) -> tuple[str, ...]:
        """After the first backward: the parameters are the candidate arrays forward did not
        replace (those are caches) and whose ``d<name>`` exists. Returns the candidates
        that look like parameters but have no gradient stored."""
        if self.explicit:
            return ()
        kept = [n for n in self.candidates if n not in rebound]
        self.params = tuple(n for n in kept if hasattr(self.layer, f"d{n}"))
        return tuple(n for n in kept if n not in self.params)

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
        return {p: getattr(self.layer, f"d{p}", None) for p in self.params}
