"""The site's generator and its renderers, without a browser."""

from __future__ import annotations

import shutil

import markdown
import numpy as np
import pytest

from symgrad import api
from symgrad.layers import CATALOG
from symgrad.render import derivation_dot
from symgrad.render import markdown as web
from symgrad.reports import PAIRS, Comparison, GradientCheck, WorstElement
from symgrad.site.generate import generate
from symgrad.site.graphs import for_the_page


def to_html(text: str) -> str:
    return markdown.markdown(text, extensions=["symgrad.site.mathml"])


def test_inline_and_display_math_become_mathml() -> None:
    html = to_html("Here $z = t^2$ and\n\n$$\n\\frac{\\partial z}{\\partial t} = 2t\n$$\n")
    assert html.count("<math") == 2
    assert 'display="block"' in html and "<mfrac>" in html
    assert "$" not in html


def test_dollars_in_code_and_prose_stay_dollars() -> None:
    html = to_html("Costs 2 $ and 3 $; run `echo $HOME$`.\n\n```\n$$\n```\n")
    assert "<math" not in html
    assert "echo $HOME$" in html and "$$" in html


def test_an_unclosed_display_formula_is_an_error() -> None:
    with pytest.raises(ValueError, match="never closed"):
        to_html("$$\nx + y\n")


def test_ones_column_is_written_as_a_character_browsers_render() -> None:
    assert "𝟙" in web.math(r"\mathrm{d}Y^{T} \mathbb{1}")
    assert "double-struck" not in web.math(r"\mathbb{1}")


def _check(error: float, tolerance: float) -> GradientCheck:
    values = np.zeros(2)
    worst = WorstElement((1,), 0.0, error, error, tolerance, error / tolerance)
    return GradientCheck(
        name="dx",
        shape=(2,),
        backward=values,
        symbolic=values,
        numeric=values,
        errors=dict.fromkeys(PAIRS, error),
        tolerance=dict.fromkeys(PAIRS, tolerance),
        relative_error=error,
        worst=dict.fromkeys(PAIRS, worst),
        disagreeing=np.array([False, error > tolerance]),
    )


@pytest.mark.parametrize(("error", "verdict"), [(1e-12, "✓ agree"), (1e-3, "✗ 1 of 2 wrong")])
def test_comparison_table_says_whether_each_gradient_agrees(error: float, verdict: str) -> None:
    report = Comparison(
        layer="mul",
        shapes={"x": (2,), "z": (2,)},
        dtype="float64",
        seed=0,
        step="central",
        gradients=(_check(error, 1e-9),),
    )
    html = web.comparison(report)
    assert verdict in html
    assert ("Disagreement in dx" in html) == (verdict != "✓ agree")


def test_affine_graph_shows_shapes_above_and_backward_rules_below() -> None:
    source = derivation_dot.derivation(api.derive("affine"))
    for text in ("X  (N×IN)", "W  (IN×OUT)", "dX = dY·Wᵀ", "dW = Xᵀ·dY", "dZ = dY"):
        assert text in source


def test_graph_svg_is_sized_in_pixels_for_the_page() -> None:
    svg = '<svg width="599pt" height="158pt" viewBox="0 0 599 158"><text>7pt</text></svg>'
    assert for_the_page(svg) == (
        '<svg width="599" height="158" viewBox="0 0 599 158"><text>7pt</text></svg>'
    )


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_generator_writes_a_page_per_layer_prunes_and_settles(tmp_path) -> None:
    stale = tmp_path / "layers" / "removed-layer.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("# a layer that left the catalog\n")
    written = generate(tmp_path)
    for layer in CATALOG:
        page = (tmp_path / "layers" / f"{layer.name}.md").read_text()
        assert page.startswith(f"# {layer.name}\n")
        assert f"class {layer.numpy_class.__name__}" in page  # the NumPy source, pulled in
        assert "✓ agree" in page  # the comparison ran during generation
        assert (tmp_path / "layers" / f"{layer.name}.svg").read_text().lstrip().startswith("<")
    assert not stale.exists() and stale in written
    assert "## symgrad derive" in (tmp_path / "reference" / "cli.md").read_text()
    # mkdocs serve rebuilds when a file changes: a second run must change nothing.
    assert generate(tmp_path) == []


def test_every_kind_of_finding_is_explained_on_the_site() -> None:
    from symgrad.checking.findings import MEANINGS
    from symgrad.site.pages import findings_reference

    table = findings_reference()
    assert all(f"| `{kind}` |" in table for kind in MEANINGS)
    assert len(table.splitlines()) == len(MEANINGS) + 2
