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
    from rich import box
    from rich.table import Table

    from symgrad.render.console import console

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(_("layer"), style="bold cyan", no_wrap=True)
    # A formula may hold a term wider than its column (gelu's at 80 columns): folded
    # onto the next line, never cut short.
    table.add_column(_("forward"), overflow="fold")
    table.add_column(_("derivative"), overflow="fold")
    table.add_column(_("--shape means"))
    for row in rows:
        table.add_row(row["layer"], row["forward"], row["derivative"], row["shape"])
    console().print(table)
