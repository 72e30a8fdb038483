"""``symgrad check FILE.py:ClassName``: check your own layer class, as it is written."""

from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.options import (
    TIMEOUT_DEFAULT,
    Dtype,
    Elements,
    Explain,
    Inits,
    Json,
    Method,
    Paths,
    Seed,
    Settings,
    Step,
    Timeout,
)
from symgrad.i18n import _

Fast = Annotated[
    bool,
    typer.Option(
        "--fast",
        help=_(
            "One random projection per gradient, <v, backward(u)> against the numeric "
            "directional derivative; only a gradient that disagrees is then checked element "
            "by element. For layers too large for a full check."
        ),
    ),
]


@app.command(
    short_help=_("Check your own layer's backward, and say in words what is wrong."),
    help=_(
        "Check your own layer's backward, and say in words what is wrong.\n\n"
        "Loads the class from the file (running the file, as python would), builds it "
        "from --init, runs forward on --input and --labels, and checks: what forward "
        "returns, how many gradients backward returns and their shapes, arrays written "
        "in place, state kept between calls, whether dout is used, and every gradient "
        "element by element against numerical differences. Whatever your code does "
        "(raise, call sys.exit, run past --timeout) is reported as a problem. Exit "
        "status: 0 when nothing is wrong, 1 when a problem is found, 2 for bad input."
    ),
)
def check(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE.py:CLASS",
            help=_(
                "A layer class with forward(*inputs) and backward(dout), e.g. "
                "examples/note_layers.py:Affine."
            ),
        ),
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="SHAPE",
            help=_(
                "The shape of one input of forward, e.g. 2,3; repeat for each, in "
                "forward's order. Filled with seeded standard-normal numbers; SHAPE:HIGH, e.g. "
                "3:10, is an integer input from 0 to HIGH-1 (class labels, word ids), not "
                "differentiated."
            ),
        ),
    ] = None,
    labels: Annotated[
        list[str] | None,
        typer.Option(
            "--labels",
            metavar="N,C",
            help=_(
                "One-hot labels of N rows and C classes, an input that is not "
                "differentiated; labels follow the --input arrays in forward's order."
            ),
        ),
    ] = None,
    init: Inits = None,
    settings: Settings = None,
    flags: Annotated[
        list[str] | None,
        typer.Option(
            "--flag",
            metavar="NAME=VALUE",
            help=_("A keyword argument of every forward call, e.g. --flag train_flg=True."),
        ),
    ] = None,
    paths: Paths = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help=_(
                "Count as problems two things that are otherwise warnings: a backward that "
                "is the exact derivative of a formula its forward smooths slightly (the book's "
                "log(y + 1e-7)), and a loss whose backward ignores dout."
            ),
        ),
    ] = False,
    symbolic: Annotated[
        str | None,
        typer.Option(
            "--symbolic",
            metavar="LAYER|EXPR",
            help=_(
                "The layer's formula, for a third column and to judge a smoothing "
                "constant: a catalog layer (softmax-with-loss) or an expression in forward's "
                "argument names, e.g. '1/(1 + exp(-x))' (parsed, never evaluated)."
            ),
        ),
    ] = None,
    seed: Seed = "0",
    dtype: Dtype = "float64",
    method: Method = "central",
    step: Step = None,
    fast: Fast = False,
    timeout: Timeout = TIMEOUT_DEFAULT,
    explain: Explain = False,
    elements: Elements = False,
    json: Json = False,
) -> int:
    """Check your own layer's backward, and say in words what is wrong."""
    from symgrad import api

    report = api.check_file(
        target,
        inputs=inputs or [],
        labels=labels or [],
        init=init or [],
        settings=settings or [],
        flags=flags or [],
        paths=paths or [],
        strict=strict,
        symbolic=symbolic,
        seed=seed,
        dtype=dtype,
        method=method,
        step=step,
        fast=fast,
        timeout=timeout,
    )
    from symgrad.render import checking

    if json:
        from symgrad.render import jsonout

        print(jsonout.dumps(checking.layer_json(report)))
    else:
        from symgrad.render.console import console

        console().print(checking.render(report, explain=explain, elements=elements))
    return 0 if report.ok else 1
