"""``symgrad derive LAYER``."""

from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.options import Batch, Json, Order, Shape, complete_layer
from symgrad.i18n import _
from symgrad.reports import SecondDerivation


@app.command(
    short_help=_("Show SymPy's derivation, node by node, as the note teaches it."),
    help=_("Show SymPy's derivation, node by node, as the note teaches it."),
)
def derive(
    layer: Annotated[
        str,
        typer.Argument(
            help=_(
                "A catalog layer, e.g. sigmoid (see `symgrad list`), a worked example"
                ' (symgrad graph --list), or an expression in quotes, e.g. "(x+y)**2".'
            ),
            autocompletion=complete_layer,
        ),
    ],
    latex: Annotated[bool, typer.Option("--latex", help=_("Print LaTeX instead."))] = False,
    json: Json = False,
    shape: Shape = None,
    batch: Batch = "2",
    order: Order = "1",
) -> None:
    """Show SymPy's derivation, node by node, as the note teaches it."""
    from symgrad import api

    report = api.derive(layer, shape=shape, batch=batch, order=order)
    if isinstance(report, SecondDerivation):
        if json or latex:
            from symgrad.render import jsonout
            from symgrad.render import latex as latex_renderer

            print(
                jsonout.dumps(jsonout.second_derivation(report))
                if json
                else latex_renderer.second_derivation(report)
            )
        else:
            from symgrad.render import terminal

            terminal.console().print(terminal.second_derivation(report))
        return
    if json:
        from symgrad.render import jsonout

        print(jsonout.dumps(jsonout.derivation(report)))
    elif latex:
        from symgrad.render import latex as latex_renderer

        print(latex_renderer.derivation(report))
    else:
        from symgrad.render import terminal

        terminal.console().print(terminal.derivation(report))
