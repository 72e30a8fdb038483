"""The site's drawings: each layer's computational graph, the note's worked examples, and
the error-versus-step curves.

Every drawing goes through the project's own renderers (Graphviz's ``dot`` for graphs,
matplotlib for the curves); this module only chooses what to draw and at which numbers.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from symgrad.graph.examples import EXAMPLES

if TYPE_CHECKING:
    from symgrad.layers.spec import Layer

# Numbers a scalar layer's graph is drawn at when no worked example of the note fixes
# them: small and distinct, so that each edge shows a different value (the mul node's
# swap reads ∂z/∂x = 3 at x = 2, y = 3).
FALLBACK_VALUES = ("2", "3", "5", "7")
SVG_TAG = re.compile(r"<svg\b[^>]*>")
SIZE_IN_POINTS = re.compile(r'\b(width|height)="([0-9.]+)pt"')


def for_the_page(svg: str) -> str:
    """Graphviz's SVG sized for a web page: its points read as CSS pixels.

    Graphviz sizes a drawing in points (14 pt labels); a browser shows 1 pt as 4/3 px, so
    a graph would come out a third larger than the text around it, and a wide one would be
    shrunk to the column until its labels are unreadable. Read as pixels (the viewBox
    scales the drawing), labels are the size of the text, and a wide graph scrolls.
    """
    tag = SVG_TAG.search(svg)
    if tag is None:
        return svg
    sized = SIZE_IN_POINTS.sub(r'\1="\2"', tag.group(0))
    return svg[: tag.start()] + sized + svg[tag.end() :]


def layer_values(layer: Layer) -> dict[str, str] | None:
    """The inputs' values for the layer's drawing, or None for a layer without a scalar
    graph (it works on whole arrays). A worked example wins (sigmoid at x = 1, relu at
    x = −1)."""
    from symgrad.symbolic.scalar import ScalarForm

    if not isinstance(layer.form, ScalarForm):
        return None
    for example in EXAMPLES:
        if example.layer == layer.name:
            return dict(example.values)
    # A constant input (dropout's mask) is drawn at 1: the element kept.
    values = dict(zip(layer.inputs, FALLBACK_VALUES, strict=False))
    return values | dict.fromkeys(layer.labels, "1")


def layer_graph_svg(layer: Layer) -> str:
    """The layer's computational graph as SVG, in the note's style.

    A scalar layer is drawn with numbers (forward value above each edge, backward below,
    in red) by the ``symgrad graph`` renderer; a matrix or class layer with its shapes
    above and its backward rules below, from its derivation.
    """
    from symgrad.render import svg

    values = layer_values(layer)
    if values is None:
        from symgrad import api
        from symgrad.render import derivation_dot

        return for_the_page(svg.render(derivation_dot.derivation(api.derive(layer.name))))
    from symgrad.graph.model import backprop
    from symgrad.graph.targets import resolve
    from symgrad.render import dot

    return for_the_page(svg.render(dot.backprop(backprop(resolve(layer.name), at=values))))


def example_graph_svg(name: str) -> str:
    """A worked example of the note (``apple``, ``apple-orange``, ``chain``) as SVG."""
    from symgrad.graph.model import backprop
    from symgrad.graph.targets import resolve
    from symgrad.render import dot, svg

    return for_the_page(svg.render(dot.backprop(backprop(resolve(name)))))


def examples() -> list[str]:
    """The worked examples that are not a catalog layer (those get a layer page)."""
    return [example.name for example in EXAMPLES if example.layer is None]


# The layer and point of the numerical-differentiation page's error-versus-step figure.
STEPS_LAYER = "sigmoid"
STEPS_AT = 0.5


def steps_plot_svg() -> str:
    """The V-shaped error-versus-step curves of every method for sigmoid, as SVG.

    Drawn by the ``symgrad steps --plot`` renderer (matplotlib, the ``plot`` extra).
    matplotlib stamps an SVG with the date and random element ids; both are pinned here,
    so that an unchanged figure is byte-for-byte unchanged and ``mkdocs serve`` settles.
    """
    import matplotlib

    from symgrad.comparison.sweep import step_sweep
    from symgrad.render import plot

    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    matplotlib.rcParams["svg.hashsalt"] = "symgrad"
    report = step_sweep(STEPS_LAYER, at=STEPS_AT, per_decade=8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "steps.svg"
        plot.step_sweep(report, path)
        return path.read_text(encoding="utf-8")
