"""Options shared by several commands, defined once."""

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead.")]
Shape = Annotated[
    str | None,
    typer.Option(
        "--shape",
        "-s",
        metavar="S",
        help="Comma-separated sizes; what they mean depends on the layer "
        "(see `symgrad list`): the input's shape for elementwise layers, "
        "IN,OUT (W's shape) for affine, N,C for softmax-with-loss.",
    ),
]
Batch = Annotated[int, typer.Option("--batch", "-n", help="Rows of X for affine.")]
Seed = Annotated[int, typer.Option("--seed", help="Seeds the inputs and the random upstream dout.")]
Dtype = Annotated[
    str,
    typer.Option(
        "--dtype",
        metavar="float64|float32",
        help="Precision the NumPy layer computes in. Tolerances follow from the dtype's "
        "rounding unit ε (float64 2.2e-16, float32 1.2e-7): backward vs symbolic 64ε, "
        "against numeric 100·ε^(2/3) (float64 1.4e-14 and 3.7e-9, float32 7.6e-6 and "
        "2.4e-3), relative to the largest value.",
    ),
]
