"""``symgrad list``: the catalog, without importing SymPy."""

from symgrad.cli.app import app
from symgrad.cli.options import Json
from symgrad.i18n import _


@app.command(
    "list",
    short_help=_("List the layers: forward, derivative, and what --shape means."),
    help=_("List the layers: forward, derivative, and what --shape means."),
)
def list_layers(json: Json = False) -> None:
    """List the layers: forward, derivative, and what --shape means."""
    import json as json_module

    from symgrad import api

    rows = api.catalog()
    if json:
        print(json_module.dumps(rows, indent=2, ensure_ascii=False))
        return
    from symgrad.render import terminal

    terminal.console().print(terminal.catalog(rows))
