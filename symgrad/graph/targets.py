"""What ``symgrad graph TARGET`` and ``symgrad derive TARGET`` were given, resolved once.

A target is a worked example of the note (``apple-orange``), a catalog layer
(``sigmoid``), or an expression (``"(x+y)**2"``). A single word is always a name, never an
expression, so a typo such as ``sigmod`` is answered with "did you mean 'sigmoid'?"
instead of being drawn as a variable; text with an operator or a parenthesis is an
expression unless it is (close to) a hyphenated name such as ``apple-orange``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from symgrad.errors import SymgradError
from symgrad.graph.examples import EXAMPLES, Example
from symgrad.i18n import _
from symgrad.layers import CATALOG, closest_layer, get_layer, normalize

if TYPE_CHECKING:
    import sympy as sp

    from symgrad.layers.spec import Layer

WORD = re.compile(r"[^\W\d]\w*")  # an identifier, in any script: sigmoid, 苹果
HYPHENATED = re.compile(r"[A-Za-z][A-Za-z0-9_]*(-[A-Za-z][A-Za-z0-9_]*)+")
NAME_LENGTH = 64
OUTPUT_NAMES = ("z", "y", "f", "out", "L")  # the first one that is not an input names the output

_EXAMPLES = {normalize(example.name): example for example in EXAMPLES}


@dataclass(frozen=True)
class Target:
    """A resolved target; its SymPy description is built on first use.

    Attributes:
        name: the canonical name (``apple-orange``, ``sigmoid``) or the expression's text.
        kind: ``example``, ``layer`` or ``expression``.
        layer: the catalog layer, when the target is one (the sigmoid example is one too).
        example: the worked example, when the target is one.
        expression: the parsed expression, when the target is one.
        inputs: the expression's variables as typed, cancelled ones included (``0*x``).
    """

    name: str
    kind: Literal["example", "layer", "expression"]
    layer: Layer | None = None
    example: Example | None = None
    expression: sp.Expr | None = None
    inputs: tuple[sp.Symbol, ...] = ()

    @cached_property
    def form(self) -> Any:
        """The SymPy description: a ``ScalarForm``, except for matrix and class layers."""
        if self.layer is not None:
            return self.layer.form
        if self.example is not None:
            from symgrad.expressions.parse import parse_expression

            return _expression_form(
                parse_expression(self.example.formula or ""), self.example.output
            )
        return _expression_form(self.expression, inputs=self.inputs)

    @property
    def values(self) -> dict[str, str]:
        """The note's numbers for an example; nothing for a layer or an expression."""
        return dict(self.example.values) if self.example else {}


def _expression_form(
    expr: sp.Expr, output: str | None = None, inputs: tuple[sp.Symbol, ...] = ()
) -> Any:
    """A ``ScalarForm`` for an expression: ``inputs`` (else its free symbols), sorted by
    name, are the inputs.

    ``output`` names the result unless an input has that name; then the first free one of
    z, y, f, out, L does.
    """
    from symgrad.symbolic.scalar import ScalarForm

    inputs = inputs or tuple(sorted(expr.free_symbols, key=str))
    taken = {str(symbol) for symbol in inputs}
    if output is None or output in taken:
        output = next((n for n in OUTPUT_NAMES if n not in taken), None)
        output = output or next(f"out{k}" for k in range(1, 100) if f"out{k}" not in taken)
    return ScalarForm(forward=expr, inputs=inputs, output=output)


def _example(example: Example) -> Target:
    layer = get_layer(example.layer) if example.layer is not None else None
    return Target(example.name, "example", layer=layer, example=example)


def _close_name(text: str, cutoff: float) -> str | None:
    """The example or layer name closest to ``text``, if any is close enough."""
    names = {normalize(e.name): e.name for e in EXAMPLES}
    names.update({normalize(layer.name): layer.name for layer in CATALOG})
    close = difflib.get_close_matches(normalize(text), list(names), n=1, cutoff=cutoff)
    return names[close[0]] if close else None


def _unknown_word(text: str) -> SymgradError:
    """The error for a name that is neither a layer nor an example."""
    if closest_layer(text) is not None:  # the catalog's own message, with its "did you mean"
        try:
            get_layer(text)
        except SymgradError as error:
            return error
    close = _close_name(text, 0.6)
    if close is not None:
        return SymgradError(
            _("unknown layer or example '{text}'; did you mean '{close}'?").format(
                text=text, close=close
            )
        )
    layers = ", ".join(layer.name for layer in CATALOG)
    examples = ", ".join(example.name for example in EXAMPLES)
    return SymgradError(
        _(
            "unknown layer '{text}' (layers: {layers}; worked examples: {examples}); an "
            "expression needs an operator, e.g. '{text}**2'"
        ).format(text=text, layers=layers, examples=examples)
    )


def resolve(text: str) -> Target:
    """The worked example, catalog layer or expression that ``text`` names.

    Raises:
        SymgradError: for an unknown name (suggesting the closest), or an expression the
            safe parser refuses.
    """
    text = text.strip()
    # No layer or example name is long: long text goes to the parser, which says "too long".
    named = len(text) <= NAME_LENGTH and bool(WORD.fullmatch(text) or HYPHENATED.fullmatch(text))
    example = _EXAMPLES.get(normalize(text))
    if example is not None and named:
        return _example(example)
    if named:
        try:
            layer = get_layer(text)
        except SymgradError:
            if WORD.fullmatch(text):
                raise _unknown_word(text) from None
            close = _close_name(text, 0.8)
            if close is not None and "-" in close:  # 'apple-orang', 'softmax-with-los'
                raise SymgradError(
                    _("unknown layer or example '{text}'; did you mean '{close}'?").format(
                        text=text, close=close
                    )
                ) from None
        else:
            return Target(layer.name, "layer", layer=layer)
    from symgrad.expressions.parse import excerpt, parse_expression, typed_inputs

    expression = parse_expression(text)
    inputs = typed_inputs(text, expression)
    if not inputs:  # a form needs at least one input
        raise SymgradError(
            _("{text} has no variables to differentiate by").format(text=excerpt(text))
        )
    return Target(text, "expression", expression=expression, inputs=inputs)


__all__ = ["Target", "resolve"]
