"""``symgrad list``: the catalog, without importing SymPy."""

from symgrad.cli.app import app
from symgrad.cli.options import Json


@app.command("list")
def list_layers(json: Json = False) -> None:
    """List the layers: forward, derivative, and what --shape means."""
    import json as json_module
    from importlib import resources

    from symgrad.layers import CATALOG

    derived = json_module.loads(
        resources.files("symgrad.layers").joinpath("derived.json").read_text(encoding="utf-8")
    )
    rows = [
        {
            "layer": layer.name,
            **derived[layer.name],
            "shape": layer.shape_meaning,
            "default_shape": ",".join(map(str, layer.default_shape)),
        }
        for layer in CATALOG
    ]
    if json:
        print(json_module.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich import box
    from rich.table import Table

    from symgrad.render.console import console

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for title in ("layer", "forward", "derivative", "--shape means"):
        table.add_column(title, style="bold cyan" if title == "layer" else None)
    for row in rows:
        table.add_row(row["layer"], row["forward"], row["derivative"], row["shape"])
    console().print(table)
