"""MkDocs hooks: run the page generator before each build, teach the Chinese search the
note's terms, and watch the code in serve.

The generator is ``python -m symgrad.site``, the same step that prepares the pages for
any other tool that reads ``mkdocs.yml``; this hook only saves that step for ``mkdocs
build`` and makes ``mkdocs serve`` rebuild the pages when a layer's code changes. It runs
in a fresh interpreter because ``mkdocs serve`` stays up: modules it imported once would
keep the old code after an edit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

import symgrad
from symgrad.i18n import LANGUAGES

PACKAGE = Path(symgrad.__file__).resolve().parent
# The suffix of a page in another language than the default: sigmoid.zh.md.
TRANSLATION = re.compile(r"\.(?:{})\.md$".format("|".join(LANGUAGES[1:])))
# A page's links in the head to itself in each language. Material's script fetches
# HREF/sitemap.xml for each, to keep the page when the reader switches language; here
# each links the page's own counterpart, not a site's root, so every fetch was a 404.
# The switcher's links already go to the counterpart: nothing is lost without them.
ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


def _source(item: Any) -> str:
    """A navigation item's Markdown file, relative to docs/ ("" for a section), by its
    default language's name (``layers/sigmoid.md`` for ``layers/sigmoid.zh.md`` too)."""
    source = getattr(getattr(item, "file", None), "src_uri", "")
    return TRANSLATION.sub(".md", source)


def on_config(config: Any) -> Any:
    """Teach jieba, which segments the Chinese pages for the search index, the glossary's
    terms: its own dictionary splits 反向传播 into 反向 and 传播, and a reader searching for
    反向传播 would then find only pages where the two happen to meet again."""
    import jieba

    from symgrad.site.glossary import chinese_words

    for word in chinese_words():
        jieba.add_word(word)
    return config


def on_pre_build(config: Any) -> None:
    """Write the generated pages before MkDocs collects the files of ``docs_dir``."""
    done = subprocess.run(
        [sys.executable, "-m", "symgrad.site", config["docs_dir"]],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PluginError(f"python -m symgrad.site failed:\n{done.stderr.strip()}")


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    """The layers in the note's teaching order (the catalog's: add, mul, …, affine,
    softmax-with-loss), not the file names' alphabetical one; the index page first."""
    from symgrad.layers import CATALOG
    from symgrad.site.generate import LAYERS

    order = {f"{LAYERS}/{layer.name}.md": k for k, layer in enumerate(CATALOG)}
    for section in nav.items:
        children = getattr(section, "children", None) or []
        if any(_source(item) in order for item in children):
            section.children = sorted(children, key=lambda item: order.get(_source(item), -1))
    return nav


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Drop the head's per-language alternate links (see ``ALTERNATE``)."""
    return ALTERNATE.sub("", output)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """Rebuild when symgrad's code changes, not only when ``docs/`` does."""
    server.watch(str(PACKAGE))
    return server
