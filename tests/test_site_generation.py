"""The site's generator and its renderers, without a browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import markdown
import numpy as np
import pytest

from symgrad import api, i18n
from symgrad.i18n import speaking
from symgrad.layers import CATALOG
from symgrad.render import derivation_dot
from symgrad.render import markdown as web
from symgrad.reports import PAIRS, Comparison, GradientCheck, WorstElement
from symgrad.site.generate import generate, localized
from symgrad.site.glossary import TERMS
from symgrad.site.graphs import for_the_page

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHINESE = ROOT / "symgrad" / "locale" / "zh" / "LC_MESSAGES" / "symgrad.po"


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
    # Every page again in Chinese, beside it, its terminal output captured in Chinese.
    for layer in CATALOG:
        page = (tmp_path / "layers" / f"{layer.name}.zh.md").read_text()
        assert page.startswith(f"# {layer.name}\n")
        assert "## 计算图" in page and "## 链式法则" in page
        assert "✓ 一致" in page and "✓ agree" not in page
        assert "上方：" in (tmp_path / "layers" / f"{layer.name}.zh.svg").read_text()
    english = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".zh." not in p.name}
    for path in english:
        if path.suffix in (".md", ".svg") and path.name != "glossary.md":
            assert (tmp_path / localized(str(path), "zh")).exists(), path
    reference = (tmp_path / "reference" / "cli.zh.md").read_text()
    assert "## symgrad derive" in reference and "像笔记那样逐个节点展示 SymPy 的推导。" in reference
    assert "计算图，正向传播 →" in (tmp_path / "snippets" / "derive.zh.md").read_text()
    # mkdocs serve rebuilds when a file changes: a second run must change nothing.
    assert generate(tmp_path) == []


def test_a_page_in_another_language_sits_beside_the_english_one() -> None:
    assert localized("layers/sigmoid.md", "en") == "layers/sigmoid.md"
    assert localized("layers/sigmoid.md", "zh") == "layers/sigmoid.zh.md"
    assert localized("figures/苹果.svg", "zh") == "figures/苹果.zh.svg"


def test_the_site_prose_speaks_the_language_it_is_asked_for() -> None:
    report = api.compare("sigmoid", seed=0)
    with speaking("zh"):
        chinese = web.comparison(report)
    english = web.comparison(report)
    assert "每个梯度都满足：反向传播 = 符号导数 = 数值导数。" in chinese
    assert "Backward = symbolic = numeric, for every gradient." in english
    assert i18n.language() == "en"  # the language before the block, after it


def test_a_layer_modules_docstring_goes_into_the_catalog(tmp_path) -> None:
    from symgrad.site.docstrings import extract

    layer = tmp_path / "cube.py"
    layer.write_text(
        '"""Cube node: y = x³.\n\nIts derivative is\n3x².\n"""\n'
        'from symgrad.i18n import _\nLAYER = make(_("a message"))\n'
    )
    helper = tmp_path / "helper.py"
    helper.write_text('"""Not a layer: its docstring is for developers."""\nX = 1\n')

    def messages(path):
        with path.open("rb") as handle:
            return [m for _, _, m, _ in extract(handle, ["_"], [], {})]

    assert messages(layer) == ["a message", "Cube node: y = x³.", "Its derivative is 3x²."]
    assert messages(helper) == []


def _catalog_says(english: str, chinese: str) -> bool:
    """Whether some message containing ``english`` is translated with ``chinese``."""
    from babel.messages.pofile import read_po

    with CHINESE.open("rb") as handle:
        catalog = read_po(handle)
    text = lambda value: value if isinstance(value, str) else " ".join(value)  # noqa: E731
    return any(
        english.lower() in text(m.id).lower() and chinese in text(m.string) for m in catalog if m.id
    )


@pytest.mark.parametrize(("english", "chinese"), TERMS)
def test_each_glossary_term_is_the_word_the_messages_or_the_pages_use(
    english: str, chinese: str
) -> None:
    """The tool's messages say it so, or a hand-written page does in both languages (the
    note's own terms, such as 苹果问题)."""
    pages = ("index.md", "concepts.md", "numerical-differentiation.md", "how-to-check.md")
    on_a_page = any(
        english.lower() in (DOCS / page).read_text().lower()
        and chinese in (DOCS / localized(page, "zh")).read_text()
        for page in pages
    )
    assert _catalog_says(english, chinese) or on_a_page


def test_the_search_segments_the_notes_terms_as_single_words() -> None:
    import jieba

    from symgrad.site import mkdocs_hooks

    mkdocs_hooks.on_config({})
    for term in ("反向传播", "链式法则", "计算图", "局部导数", "上游传来的导数"):
        assert list(jieba.cut(f"用{term}求导")) == ["用", term, "求导"], term


def test_every_kind_of_finding_is_explained_on_the_site() -> None:
    from symgrad.checking.findings import MEANINGS
    from symgrad.site.pages import findings_reference

    table = findings_reference()
    assert all(f"| `{kind}` |" in table for kind in MEANINGS)
    assert len(table.splitlines()) == len(MEANINGS) + 2
