"""``python -m symgrad.site [DOCS_DIR]``: write the generated pages (default ``docs``)."""

import sys
from pathlib import Path

from symgrad.site.generate import generate

docs = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
written = generate(docs)
print(f"symgrad.site: {len(written)} file(s) changed under {docs}/", file=sys.stderr)
