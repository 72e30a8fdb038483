"""The documentation site's generated pages, written before MkDocs (or Zensical) builds.

``python -m symgrad.site`` writes, from the code, everything in ``docs/`` that must not
drift from it: one page and one graph per catalog layer, the CLI reference, the home
page's captured output, and the worked examples' figures. Any tool that reads
``mkdocs.yml`` then builds the site from plain Markdown and SVG files; the MkDocs hook in
:mod:`symgrad.site.mkdocs_hooks` only calls the same generator, for ``mkdocs serve``.
"""
