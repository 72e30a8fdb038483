"""A catalog layer's module docstring as prose of the site, in the message catalog.

Each layer's page opens with its module's docstring, which says what the layer computes
and what to mind in its backward. That is prose a reader sees, so the Chinese page needs
it in Chinese: ``babel.cfg`` extracts every paragraph of a layer module's docstring with
:func:`extract` (beside the module's ``_()`` calls), and the page translates each with
``_()``. A layer added to the catalog is then held to a translation of its docstring by
``tests/test_i18n.py``, as any other message is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any


def paragraphs(doc: str) -> list[str]:
    """A docstring's paragraphs, each on one line (the form they have in the catalog)."""
    return [" ".join(part.split()) for part in doc.split("\n\n") if part.strip()]


def _defines_a_layer(module: ast.Module) -> bool:
    """Whether the module assigns ``LAYER``, the record that puts it in the catalog."""
    return any(
        isinstance(statement, ast.Assign)
        and any(
            isinstance(target, ast.Name) and target.id == "LAYER" for target in statement.targets
        )
        for statement in module.body
    )


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extractor for ``symgrad/layers/``: the module's ``_()`` messages, as Babel's
    Python extractor finds them, and a layer module's docstring, paragraph by paragraph."""
    from babel.messages.extract import extract_python  # Babel runs this: it is there

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    module = ast.parse(source)
    doc = ast.get_docstring(module)
    if doc and _defines_a_layer(module):
        for paragraph in paragraphs(doc):
            yield 1, "_", paragraph, []
