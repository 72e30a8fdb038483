"""The catalog summary that ``symgrad list`` shows without importing SymPy.

``symgrad/layers/derived.json`` holds each layer's forward formula and final derivative
as SymPy derived and printed them, in every language symgrad speaks (a piecewise formula
has words: "x where x > 0, 0 otherwise"). It is generated, never edited: run
``python -m symgrad.symbolic.summary`` after changing a layer; a test fails while the file
is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from symgrad.i18n import LANGUAGES, language, set_language
from symgrad.layers import CATALOG, Layer
from symgrad.render.mathtext import pretty

SUMMARY_PATH = Path(__file__).resolve().parent.parent / "layers" / "derived.json"


def summarize(layer: Layer) -> dict[str, str]:
    """One layer's row: its forward and its final derivatives, as SymPy prints them."""
    report = layer.form.derive(layer.name)
    if report.matrix:
        derivative = ", ".join(f"d{n} = {pretty(v)}" for n, v in report.derivatives.items())
    else:
        derivative = ", ".join(
            f"∂{pretty(report.output)}/∂{pretty(n)} = {pretty(v)}"
            for n, v in report.derivatives.items()
        )
    forward = f"{pretty(report.output)} = {pretty(report.forward)}"
    if layer.kind.loss and len(report.nodes) > 1:  # written in its activation's output
        first = report.nodes[0]
        forward += f", {pretty(first.output)} = {pretty(first.expression)}"
    return {"forward": forward, "derivative": derivative}


def build_summary() -> dict[str, dict[str, dict[str, str]]]:
    """Every catalog layer's row, by name and then language: what ``derived.json`` holds."""
    reader = language()
    rows: dict[str, dict[str, dict[str, str]]] = {layer.name: {} for layer in CATALOG}
    try:
        for code in LANGUAGES:
            set_language(code)
            for layer in CATALOG:
                rows[layer.name][code] = summarize(layer)
    finally:
        set_language(reader)
    return rows


def render_summary() -> str:
    return json.dumps(build_summary(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SUMMARY_PATH.write_text(render_summary(), encoding="utf-8")
    print(f"wrote {SUMMARY_PATH}")
