"""The documentation site: built with ``mkdocs build --strict``, then read in a real browser.

The browser is Debian's Chromium driven by Playwright (never a browser Playwright would
download); the site is served from 127.0.0.1 by a server started here, and every request
the pages make is watched: none may fail, and none may leave 127.0.0.1. Every page is
there twice, in English at the root and in Chinese under ``zh/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from symgrad.layers import CATALOG

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
]
HOST = "127.0.0.1"
# Where each language's pages are, relative to the site's root.
LANGUAGES = {"en": "", "zh": "zh/"}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built the way the test command builds it: strictly, warnings are errors."""
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury pytest's output


@pytest.fixture(scope="session")
def server(built_site: Path) -> Iterator[str]:
    """The built site served on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium; a missing browser fails under CI and skips elsewhere."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium; scripts/test.sh does it)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(f"BROWSER TESTS SKIPPED, the site was not checked in a browser: {reason}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page as loaded, with everything that went wrong while loading it."""

    page: object
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def visit(browser, server: str) -> Iterator:
    """Open a site path in a fresh page, recording console errors and bad requests."""
    contexts = []

    def open_page(path: str, width: int = 1280) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page)

        def console(message) -> None:
            if message.type == "error":
                seen.problems.append(f"console error: {message.text}")

        def response(answer) -> None:
            if answer.status >= 400:
                seen.problems.append(f"HTTP {answer.status}: {answer.url}")

        def request(asked) -> None:
            host = urlparse(asked.url).hostname  # None for data: and blob: URLs
            if host is not None and host != HOST:
                seen.problems.append(f"request outside {HOST}: {asked.url}")

        page.on("console", console)
        page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda r: seen.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", response)
        page.on("request", request)
        page.goto(urljoin(server, path), wait_until="networkidle")
        return seen

    yield open_page
    for context in contexts:
        context.close()


def site_pages(site: Path) -> list[str]:
    """Every page of the built site, as a path relative to its root (``layers/relu/``)."""
    return sorted(
        "" if p.parent == site else p.parent.relative_to(site).as_posix() + "/"
        for p in site.rglob("index.html")
    )


@pytest.mark.parametrize("prefix", LANGUAGES.values())
def test_site_builds_strictly_with_a_page_per_layer(built_site: Path, prefix: str) -> None:
    pages = site_pages(built_site)
    assert prefix in pages
    for page in (
        "concepts/",
        "numerical-differentiation/",
        "how-to-check/",
        "glossary/",
        "reference/cli/",
        "reference/api/",
    ):
        assert prefix + page in pages
    for layer in CATALOG:
        page = f"{prefix}layers/{layer.name}/"
        assert page in pages, f"no page for the catalog layer {layer.name}"
        assert (built_site / f"{prefix}layers" / f"{layer.name}.svg").stat().st_size > 1000


def test_every_english_page_has_its_chinese_page(built_site: Path) -> None:
    pages = set(site_pages(built_site))
    english = {page for page in pages if not page.startswith(LANGUAGES["zh"])}
    assert len(english) > len(CATALOG)
    assert {LANGUAGES["zh"] + page for page in english} <= pages
    assert len(pages) == 2 * len(english)


def _switcher(html: str) -> dict[str, str]:
    """The language switcher's links of a built page: hreflang → href."""
    links = re.findall(r'<a href="([^"]*)" hreflang="([a-z]+)" class="md-select__link"', html)
    return {language: href for href, language in links}


def test_the_language_switcher_links_each_page_to_itself_in_the_other_language(
    built_site: Path,
) -> None:
    """Both ways, on every page: English → 中文 and back, to the same page."""
    for page in site_pages(built_site):
        here = f"http://{HOST}/{page}"
        english = page.removeprefix(LANGUAGES["zh"])
        links = _switcher((built_site / page / "index.html").read_text(encoding="utf-8"))
        assert set(links) == set(LANGUAGES), page
        for language, prefix in LANGUAGES.items():
            assert urljoin(here, links[language]) == f"http://{HOST}/{prefix}{english}", page


def test_every_page_loads_without_errors_or_outside_requests(built_site: Path, visit) -> None:
    problems = {}
    for path in site_pages(built_site):
        seen = visit(path)
        if seen.problems:
            problems[path or "/"] = seen.problems
    assert not problems


@pytest.mark.parametrize("prefix", LANGUAGES.values())
@pytest.mark.parametrize("layer", [layer.name for layer in CATALOG])
def test_layer_page_shows_math_graph_and_check(layer: str, prefix: str, visit) -> None:
    seen = visit(f"{prefix}layers/{layer}/")
    page = seen.page
    sizes = page.eval_on_selector_all(
        "article math",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })",
    )
    assert len(sizes) >= 4, "the forward formula, nodes and derivative should all be math"
    assert all(w > 0 and h > 0 for w, h in sizes), "some MathML was not laid out"
    graph = page.locator("article img.graph")
    graph.scroll_into_view_if_needed()
    assert graph.is_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", graph.element_handle()), (
        "the graph SVG did not load"
    )
    box = graph.bounding_box()
    assert box["width"] > 100 and box["height"] > 50
    verdicts = page.locator("article .comparison table .agree")
    assert verdicts.count() >= 1, "the comparison table has no agreeing gradient"
    assert page.locator("article pre code").first.inner_text().lstrip().startswith("class ")
    assert not seen.problems


@pytest.mark.parametrize("prefix", LANGUAGES.values())
def test_navigation_reaches_every_layer_page(server: str, visit, prefix: str) -> None:
    """Follow the site's navigation links only, from the home page."""
    home = visit(prefix)
    links = home.page.eval_on_selector_all(
        "nav.md-nav a.md-nav__link[href]", "as => as.map(a => a.href)"
    )
    reached = {urlparse(link).path for link in links}
    for layer in CATALOG:
        page = f"/{prefix}layers/{layer.name}/"
        assert page in reached, f"the navigation has no link to {page}"
    home.page.locator("nav.md-nav--primary a.md-nav__link[href$='layers/sigmoid/']").first.click()
    home.page.wait_for_url(f"**/{prefix}layers/sigmoid/")
    assert home.page.locator("article h1").inner_text().rstrip("¶ \n") == "sigmoid"


def test_the_switcher_takes_a_reader_to_the_chinese_page_and_back(visit) -> None:
    seen = visit("layers/sigmoid/")
    page = seen.page
    for language, heading in (("zh", "计算图"), ("en", "Computational graph")):
        page.locator(".md-header .md-select").first.hover()  # the menu opens on hover
        page.locator(f".md-select__link[hreflang='{language}']").first.click()
        page.wait_for_url(f"**/{LANGUAGES[language]}layers/sigmoid/")
        assert page.locator("article h2", has_text=heading).count() == 1
    # Leaving a page cuts short what its search worker was still loading: not a fault.
    assert [p for p in seen.problems if not p.endswith("net::ERR_ABORTED")] == []


def _search(seen: Visit, words: str) -> list[str]:
    """Type ``words`` into the page's search box; the paths of the results it lists."""
    page = seen.page
    search = page.locator("input.md-search__input")  # in the header at desktop width
    search.click()
    # The search listens to keystrokes, and typing Chinese sends none (an input method
    # inserts the text): the words are put in, then a key is pressed, as after an IME.
    search.fill(words)
    search.press("End")
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    return [urlparse(href).path for href in results.evaluate_all("as => as.map(a => a.href)")]


def test_search_for_sigmoid_finds_the_sigmoid_page(visit) -> None:
    seen = visit("")
    paths = _search(seen, "sigmoid")
    assert any(path.endswith("/layers/sigmoid/") for path in paths), paths
    assert not seen.problems


@pytest.mark.parametrize("words", ["反向传播", "链式法则"])
def test_search_in_chinese_finds_the_chinese_pages(visit, words: str) -> None:
    """The note's terms, typed as a reader types them, from a Chinese page: the concepts
    page that retells the note comes first, and only Chinese pages are found (the English
    glossary too, whose table holds the Chinese terms)."""
    seen = visit("zh/")
    paths = _search(seen, words)
    assert paths[0] == "/zh/concepts/", paths
    assert all(path.startswith("/zh/") or path == "/glossary/" for path in paths), paths
    assert not seen.problems


# English prose: three Latin words or more in a row, the fragment of a sentence; a name
# alone (NumPy, dout, softmax-with-loss, float64) is not one.
# Three words of two letters or more in a row: indices such as y[n,f,i,j] are not prose.
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")
# What is not prose on a page: mathematics, code and the drawings.
NOT_PROSE = re.compile(r"<(math|pre|code|svg)\b.*?</\1>", re.S)


def english_prose(html: str) -> list[str]:
    """The runs of English words in a built page's article, outside math and code."""
    article = re.search(r"<article\b.*?</article>", html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", NOT_PROSE.sub(" ", article))
    return ENGLISH_RUN.findall(unescape(text))


def test_the_english_detector_sees_english(built_site: Path) -> None:
    html = (built_site / "layers" / "sigmoid" / "index.html").read_text(encoding="utf-8")
    assert len(english_prose(html)) > 5


@pytest.mark.parametrize(
    "page",
    [
        "",
        "concepts/",
        "numerical-differentiation/",
        "how-to-check/",
        "glossary/",
        "layers/",
        *(f"layers/{layer.name}/" for layer in CATALOG),
    ],
)
def test_the_chinese_pages_are_chinese_apart_from_the_mathematics(
    built_site: Path, page: str
) -> None:
    html = (built_site / "zh" / page / "index.html").read_text(encoding="utf-8")
    assert english_prose(html) == []


# A desktop window and a phone (an iPhone's 390 CSS pixels).
WIDTHS = (1280, 390)

# Every figure, formula, code block and table of an article, and the nearest box that
# scrolls it: overflowing the column is allowed only inside a box that scrolls sideways
# and shows so (symgrad.css draws a shadow on the side with more to see). The column is
# the content area, into whose margins the theme bleeds code blocks and tables.
OVERFLOW = """() => {
  const content = document.querySelector(".md-content").getBoundingClientRect();
  const column = {left: Math.max(content.left, 0), right: Math.min(content.right, innerWidth)};
  const wide = [];
  for (const el of document.querySelectorAll(
      "article img, article svg, article math, article pre, article table")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || (r.left >= column.left - 1 && r.right <= column.right + 1)) continue;
    let box = el.parentElement, marked = false;
    while (box && box.tagName !== "ARTICLE") {
      const style = getComputedStyle(box);
      const b = box.getBoundingClientRect();
      // The innermost box that scrolls and itself fits the column shows the overflow.
      if (["auto", "scroll"].includes(style.overflowX)
          && b.left >= column.left - 1 && b.right <= column.right + 1) {
        marked = style.backgroundImage.includes("gradient");
        break;
      }
      box = box.parentElement;
    }
    if (!marked) wide.push(`${el.tagName.toLowerCase()} ${Math.round(r.width)}px wide`);
  }
  return wide;
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_its_column_without_a_visible_scroll(
    built_site: Path, visit, width: int
) -> None:
    overflowing = {}
    for path in site_pages(built_site):
        wide = visit(path, width).page.evaluate(OVERFLOW)
        if wide:
            overflowing[path or "/"] = wide
    assert not overflowing


def test_the_detector_sees_an_unmarked_overflow(visit) -> None:
    page = visit("layers/sigmoid/", 390).page
    page.evaluate(
        """() => { const img = document.querySelector("article img.graph");
        img.style.maxWidth = "none"; img.style.width = "1200px"; }"""
    )
    assert page.evaluate(OVERFLOW)


@pytest.mark.parametrize("width", WIDTHS)
def test_graphs_fit_the_column_and_open_at_full_size(visit, width: int) -> None:
    for path in ("layers/sigmoid/", "layers/softmax-with-loss/", "concepts/"):
        page = visit(path, width).page
        column = page.locator("article").bounding_box()
        for graph in page.locator("article img.graph").all():
            box = graph.bounding_box()
            assert box["x"] + box["width"] <= column["x"] + column["width"] + 1, path
            link = graph.locator("xpath=..")
            assert link.get_attribute("href").endswith(".svg"), path


@pytest.mark.parametrize("prefix", LANGUAGES.values())
def test_the_layers_follow_the_teaching_order(visit, prefix: str) -> None:
    """The note's order (the catalog's), not the alphabet: add, mul, …, softmax-with-loss."""
    links = visit(f"{prefix}layers/").page.eval_on_selector_all(
        "nav.md-nav--primary a.md-nav__link[href]", "as => as.map(a => a.href)"
    )
    names = [urlparse(link).path.rstrip("/").rsplit("/", 1)[-1] for link in links]
    order = [name for name in dict.fromkeys(names) if name in {layer.name for layer in CATALOG}]
    assert order == [layer.name for layer in CATALOG]


SCREENS = [
    ("home", ""),
    ("sigmoid", "layers/sigmoid/"),
    ("zh-home", "zh/"),
    ("zh-sigmoid", "zh/layers/sigmoid/"),
    ("zh-concepts", "zh/concepts/"),
    ("affine", "layers/affine/"),
    ("softmax-with-loss", "layers/softmax-with-loss/"),
    ("apple-orange", "concepts/"),
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "path"), SCREENS)
def test_screenshot(name: str, path: str, visit, width: int) -> None:
    seen = visit(path, width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-{width}.png"
    seen.page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 20_000
    assert not seen.problems
