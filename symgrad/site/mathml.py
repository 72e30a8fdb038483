"""A Python-Markdown extension: ``$…$`` and ``$$…$$`` become MathML when the page is built.

The hand-written pages write their formulas in LaTeX; this converts them with the same
function the generated pages use (:func:`symgrad.render.markdown.math`), so no page needs
a math script or a web font. It is a plain Markdown extension, listed under
``markdown_extensions`` in ``mkdocs.yml``, so it does not depend on MkDocs' plugin API.

Inline math is ``$x + y$`` (no space just inside the dollars, so "2 $ and 3 $" is text);
a display formula is ``$$`` on a line of its own, the LaTeX, and ``$$`` again.
"""

from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor

from symgrad.render.markdown import math

INLINE = r"(?<![\\$\w])\$(?=\S)(.+?)(?<=\S)\$(?![\w$])"
FENCE = re.compile(r"^\s*(```|~~~)")


class InlineMath(InlineProcessor):
    """``$…$`` → an inline ``<math>``, stashed so that no other pattern touches it."""

    def handleMatch(self, m: re.Match, data: str) -> tuple[str, int, int]:
        return self.md.htmlStash.store(math(m.group(1))), m.start(0), m.end(0)


class DisplayMath(Preprocessor):
    """``$$`` lines around LaTeX → a block ``<math>`` (outside fenced code only)."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fenced = False
        formula: list[str] | None = None
        for line in lines:
            if formula is not None:
                if line.strip() == "$$":
                    html = f'<div class="formula">{math(" ".join(formula), display=True)}</div>'
                    out += ["", self.md.htmlStash.store(html), ""]
                    formula = None
                else:
                    formula.append(line.strip())
            elif FENCE.match(line):
                fenced = not fenced
                out.append(line)
            elif not fenced and line.strip() == "$$":
                formula = []
            else:
                out.append(line)
        if formula is not None:
            raise ValueError("a display formula opened with $$ is never closed")
        return out


class MathMLExtension(Extension):
    """Registers the two processors."""

    def extendMarkdown(self, md: Markdown) -> None:
        # Display math after whitespace is normalized (30) and snippets are included (32),
        # before fenced code (25) and raw HTML (20) see the lines. Inline math after code
        # spans (190) have taken their text, so a $ inside `code` stays a dollar.
        md.preprocessors.register(DisplayMath(md), "symgrad-display-math", 29)
        md.inlinePatterns.register(InlineMath(INLINE, md), "symgrad-inline-math", 185)


def makeExtension(**kwargs) -> MathMLExtension:
    """The entry point Python-Markdown looks for."""
    return MathMLExtension(**kwargs)


__all__ = ["MathMLExtension", "makeExtension"]
