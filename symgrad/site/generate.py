"""Write the generated part of ``docs/``; every path written here is gitignored.

Files are rewritten only when their content changes, so that ``mkdocs serve`` (which
rebuilds when a file under ``docs/`` changes) settles after one pass, and files of a
layer that left the catalog are removed so that no stale page survives it.
"""

from __future__ import annotations

from pathlib import Path

from symgrad.i18n import LANGUAGES, speaking
from symgrad.site.capture import Capture

# Everything generated, relative to the docs directory (and listed in .gitignore).
LAYERS = "layers"  # one page and one SVG per catalog layer, and the index page
FIGURES = "figures"  # the worked examples' graphs, the error-versus-step plot
SNIPPETS = "snippets"  # captured CLI output, included by the home page
CLI_REFERENCE = "reference/cli.md"


def write(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; True if written."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _prune(folder: Path, keep: set[Path]) -> list[Path]:
    """Delete generated files in ``folder`` that this run did not produce."""
    stale = [path for path in folder.glob("*") if path.is_file() and path not in keep]
    for path in stale:
        path.unlink()
    return stale


def localized(path: str, language: str) -> str:
    """A page's file in ``language``: ``layers/sigmoid.md`` is the default language's, and
    ``layers/sigmoid.zh.md`` the Chinese one beside it (mkdocs-static-i18n's suffix
    structure, mkdocs.yml)."""
    if language == LANGUAGES[0]:
        return path
    stem, dot, extension = path.rpartition(".")
    return f"{stem}.{language}{dot}{extension}"


def _pages(docs: Path, capture: Capture) -> dict[Path, str]:
    """Every page and snippet in the language spoken now, which ``capture`` runs in; its
    output is waited for last, once everything else is written."""
    from symgrad.layers import CATALOG
    from symgrad.site import graphs, pages

    language = capture.language

    def at(path: str) -> Path:
        return docs / localized(path, language)

    # The drawings' legends and the plot's labels are words too: one set per language.
    outputs = {at(f"{LAYERS}/index.md"): pages.layer_index()}
    for layer in CATALOG:
        outputs[at(f"{LAYERS}/{layer.name}.md")] = pages.layer_page(
            layer, graphs.layer_values(layer)
        )
        outputs[at(f"{LAYERS}/{layer.name}.svg")] = graphs.layer_graph_svg(layer)
    for name in graphs.examples():
        outputs[at(f"{FIGURES}/{name}.svg")] = graphs.example_graph_svg(name)
    outputs[at(f"{FIGURES}/steps-sigmoid.svg")] = graphs.steps_plot_svg()
    outputs[at(f"{SNIPPETS}/findings.md")] = pages.findings_reference()
    captured = capture.result()
    for name, text in pages.tour(captured).items():
        outputs[at(f"{SNIPPETS}/{name}.md")] = text
    outputs[at(CLI_REFERENCE)] = pages.cli_reference(captured)
    return outputs


def generate(docs: Path) -> list[Path]:
    """Write every generated page, drawing and snippet under ``docs``, each page in every
    language of the site (English, then Chinese beside it).

    Args:
        docs: the documentation directory (``docs`` beside ``mkdocs.yml``).

    Returns:
        The files written or deleted because their content changed.

    Raises:
        SymgradError: when a layer cannot be derived, drawn or checked, or a CLI example
            fails; a broken page must break the build, not be published.
    """
    from symgrad.site import pages

    docs = Path(docs)
    # Started first: the CLI's output is captured in other processes meanwhile.
    captures = [Capture(pages.TOUR.values(), language) for language in LANGUAGES]
    # Both languages' glossary pages show the one table.
    outputs: dict[Path, str] = {docs / SNIPPETS / "glossary.md": pages.glossary()}
    for capture in captures:
        with speaking(capture.language):
            outputs |= _pages(docs, capture)

    changed = [path for path, text in outputs.items() if write(path, text)]
    for folder in (LAYERS, FIGURES, SNIPPETS):
        changed += _prune(docs / folder, set(outputs))
    return changed
