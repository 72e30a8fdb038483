"""``symgrad steps LAYER``: the error of numeric derivatives against the step size."""

from pathlib import Path
from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.options import METHOD_CHOICES, Dtype, Json, Order, complete_layer
from symgrad.i18n import _


@app.command(
    short_help=_("Error versus step of each numeric method, against SymPy's exact value."),
    help=_(
        "Error versus step of each numeric method, against SymPy's exact value.\n\n"
        "Steps run from 1e-1 down to 1e-16: too large and truncation wins, too small "
        "and rounding does; the best step sits at the bottom of the V between them."
    ),
)
def steps(
    layer: Annotated[
        str,
        typer.Argument(
            help=_("A catalog layer, e.g. sigmoid (see `symgrad list`)."),
            autocompletion=complete_layer,
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="VALUE|NAME=VALUE,...",
            help=_(
                "The point: every input filled with VALUE, or each input named with its "
                "own (an input not named is at 0.5)."
            ),
        ),
    ] = None,
    method: Annotated[
        list[str] | None,
        typer.Option(
            "--method",
            "-m",
            metavar="METHOD",
            help=_(
                "A method to show ({methods}); repeat for several. Default: every method the "
                "layer allows."
            ).format(methods=", ".join(METHOD_CHOICES)),
        ),
    ] = None,
    dtype: Dtype = "float64",
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE.svg|png",
            help=_("Also write the log-log curve (needs matplotlib: pip install 'symgrad[plot]')."),
            dir_okay=False,
        ),
    ] = None,
    json: Json = False,
    order: Order = "1",
) -> None:
    """Error versus step of each numeric method, against SymPy's exact value."""
    if plot is not None:
        from symgrad.render import plot as plotting

        plotting.check_target(plot)  # a missing matplotlib is one line, before any work
    from symgrad import api

    report = api.steps(layer, at=at, methods=method, dtype=dtype, order=order)
    if json:
        from symgrad.render import jsonout

        print(jsonout.dumps(jsonout.step_sweep(report)))
    else:
        from symgrad.render import terminal

        terminal.console().print(terminal.step_sweep(report))
    if plot is not None:
        fine = api.steps(layer, at=at, methods=method, dtype=dtype, per_decade=8, order=order)
        plotting.step_sweep(fine, plot)
        if not json:
            print(_("wrote {path}").format(path=plot))
