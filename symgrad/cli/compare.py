"""``symgrad compare LAYER``."""

from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.options import (
    At,
    Batch,
    Dtype,
    Elements,
    Explain,
    Json,
    Method,
    Order,
    Seed,
    Shape,
    Step,
    complete_layer,
)
from symgrad.i18n import _


@app.command(
    short_help=_("Check NumPy backward against SymPy and numerical differences."),
    help=_(
        "Check NumPy backward against SymPy and numerical differences.\n\n"
        "At a kink (relu at 0) the backward must lie between the left and right "
        "one-sided derivatives. Exit status: 0 when all three agree, 1 when any "
        "gradient disagrees, 2 for bad input."
    ),
)
def compare(
    layer: Annotated[
        str,
        typer.Argument(
            help=_("A catalog layer, e.g. affine (see `symgrad list`)."),
            autocompletion=complete_layer,
        ),
    ],
    shape: Shape = None,
    batch: Batch = "2",
    seed: Seed = "0",
    dtype: Dtype = "float64",
    method: Method = "central",
    step: Step = None,
    at: At = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help=_(
                "Also evaluate SymPy's gradient at 50 digits (mpmath) and report how many "
                "ulps the NumPy backward is from it."
            ),
        ),
    ] = False,
    explain: Explain = False,
    elements: Elements = False,
    json: Json = False,
    order: Order = "1",
) -> int:
    """Check NumPy backward against SymPy and numerical differences."""
    from symgrad import api

    report = api.compare(
        layer,
        shape=shape,
        seed=seed,
        dtype=dtype,
        batch=batch,
        method=method,
        step=step,
        at=at,
        exact=exact,
        order=order,
    )
    if json:
        from symgrad.render import jsonout

        print(jsonout.dumps(jsonout.comparison(report)))
    else:
        from symgrad.render import terminal

        terminal.console().print(terminal.comparison(report, explain=explain, elements=elements))
    return 0 if report.ok else 1
