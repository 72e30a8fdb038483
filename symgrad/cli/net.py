"""``symgrad net SPEC``: a whole network, every parameter end to end and layer by layer."""

from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.check import Fast
from symgrad.cli.options import (
    METHOD_CHOICES,
    TIMEOUT_DEFAULT,
    Dtype,
    Explain,
    Inits,
    Json,
    Paths,
    Seed,
    Settings,
    Step,
    Timeout,
)
from symgrad.i18n import _


@app.command(
    short_help=_("Check a network: every parameter end to end, every layer alone."),
    help=_(
        "Check a network: every parameter end to end, every layer alone.\n\n"
        "Built as the book builds its two-layer net (weights 0.01·randn, zero biases). "
        "The numeric gradient chains each layer's numeric derivative from the loss "
        "down, so no backward code is used, and each layer's backward is also checked "
        "against its own forward, which names the layer that is broken. Exit status: 0 "
        "when backprop agrees, 1 when it does not, 2 for bad input."
    ),
)
def net(
    spec: Annotated[
        str,
        typer.Argument(
            metavar="SPEC|FILE.py:CLASS",
            help=_(
                "Catalog layers separated by commas, the last a loss, e.g. "
                "affine:50,relu,affine:10,softmax-with-loss (affine:OUT gives the output size); "
                "or your own network class, e.g. ch05/two_layer_net.py:TwoLayerNet with --set "
                "input_size=784 --set hidden_size=50 --set output_size=10 --labels 3,10."
            ),
        ),
    ],
    input_shape: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            metavar="N,IN",
            help=_(
                "The input batch's shape, e.g. 3,784 (seeded standard-normal numbers); the "
                "labels are random one-hot rows for the loss's classes."
            ),
        ),
    ] = "3,784",
    labels: Annotated[
        str | None,
        typer.Option("--labels", metavar="N,C", help=_("A network class's one-hot labels' shape.")),
    ] = None,
    settings: Settings = None,
    init: Inits = None,
    paths: Paths = None,
    seed: Seed = "0",
    dtype: Dtype = "float64",
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-m",
            metavar="METHOD",
            help=_(
                "One numeric method for every layer ({methods}). Default: complex-step for the "
                "layers whose forward is complex-safe (affine, softmax-with-loss), central "
                "elsewhere."
            ).format(methods=", ".join(METHOD_CHOICES)),
        ),
    ] = None,
    step: Step = None,
    fast: Fast = False,
    timeout: Timeout = TIMEOUT_DEFAULT,
    explain: Explain = False,
    json: Json = False,
) -> int:
    """Check a network: every parameter end to end, every layer alone."""
    from symgrad import api

    report = api.check_net(
        spec,
        input_shape,
        seed=seed,
        dtype=dtype,
        method=method,
        step=step,
        fast=fast,
        timeout=timeout,
        labels=labels,
        settings=settings or [],
        init=init or [],
        paths=paths or [],
    )
    from symgrad.render import checking

    if json:
        from symgrad.render import jsonout

        print(jsonout.dumps(checking.network_json(report)))
    else:
        from symgrad.render.console import console

        console().print(checking.render(report, explain=explain))
    return 0 if report.ok else 1
