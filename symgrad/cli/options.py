"""Options shared by several commands, defined once.

Numbers and sizes are taken as text and parsed by :mod:`symgrad.inputs` (through
:mod:`symgrad.api`): Click's own int and float accept Unicode digits, NaN and numbers
too long to convert.
"""

from typing import Annotated

import typer

from symgrad.i18n import _, set_language


def complete_layer(incomplete: str) -> list[str]:
    """The catalog's layer names that start with what was typed, for shell completion
    (read from the generated derived.json: a Tab never waits for NumPy or SymPy)."""
    import json
    from importlib import resources

    derived = resources.files("symgrad.layers").joinpath("derived.json").read_text("utf-8")
    return [name for name in json.loads(derived) if name.startswith(incomplete)]


def _json_in_english(asked: bool) -> bool:
    """JSON is an interface: with --json every sentence (a finding, a note, an error)
    stays in English, whatever the reader's language."""
    if asked:
        set_language("en")
    return asked


Json = Annotated[
    bool,
    typer.Option(
        "--json",
        callback=_json_in_english,
        help=_("Print machine-readable JSON instead."),
    ),
]
Explain = Annotated[
    bool,
    typer.Option(
        "--explain",
        help=_(
            "Also print how each bound is made: the numeric method's error model "
            "(truncation + rounding + the backward's own allowance), term by term."
        ),
    ),
]
Elements = Annotated[
    bool,
    typer.Option(
        "--elements",
        help=_(
            "Print the element-by-element table of every gradient, however large "
            "(by default only gradients of up to 24 elements get one)."
        ),
    ),
]
Shape = Annotated[
    str | None,
    typer.Option(
        "--shape",
        "-s",
        metavar="S",
        help=_(
            "Comma-separated sizes; what they mean depends on the layer "
            "(see `symgrad list`): the input's shape for elementwise layers, "
            "IN,OUT (W's shape) for affine, N,C for softmax-with-loss."
        ),
    ),
]
Batch = Annotated[str, typer.Option("--batch", "-n", metavar="N", help=_("Rows of X for affine."))]
Order = Annotated[
    str,
    typer.Option(
        "--order",
        metavar="1|2",
        help=_(
            "2 for second derivatives: elementwise layers and expressions (compare: "
            "SymPy's H·v against the numeric derivative of the NumPy backward)."
        ),
    ),
]
Seed = Annotated[
    str,
    typer.Option("--seed", metavar="N", help=_("Seeds the inputs and the random upstream dout.")),
]
Dtype = Annotated[
    str,
    typer.Option(
        "--dtype",
        metavar="float64|float32",
        help=_(
            "Precision the NumPy layer computes in. Tolerances follow from the dtype's "
            "rounding unit ε (float64 2.2e-16, float32 1.2e-7): backward vs symbolic 64ε "
            "relative to the largest value; against numeric, the method's error model "
            "(truncation + rounding at its step), printed beside the verdict."
        ),
    ),
]
# Kept in step with symgrad.numeric.methods.METHOD_NAMES (a test checks), which is not
# imported here so that `symgrad --help` loads no NumPy.
METHOD_CHOICES = ("forward", "central", "five-point", "richardson", "complex-step")
Method = Annotated[
    str,
    typer.Option(
        "--method",
        "-m",
        metavar="METHOD",
        help=_(
            "Numerical method: forward (error ∝ h), central (∝ h²), five-point (∝ h⁴), "
            "richardson (extrapolated, with an error estimate), complex-step (Im f(x+ih)/h, "
            "exact to rounding; only for layers whose forward is analytic and complex-safe)."
        ),
    ),
]
Step = Annotated[
    str | None,
    typer.Option(
        "--step",
        metavar="H",
        help=_(
            "A fixed step h for every element (h₀ for richardson) instead of the automatic "
            "ε^(1/2), ε^(1/3), ε^(1/5)·max(1, |x|) of forward, central, five-point."
        ),
    ),
]
At = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="VALUE|NAME=VALUE,...",
        help=_(
            "Fill the layer's inputs with VALUE, or each input named with its own "
            "(--at x=1,y=2; the others, parameters and labels stay random); --at 0 puts "
            "relu on its kink."
        ),
    ),
]
# Kept in step with symgrad.checking.containment.DEFAULT_TIMEOUT (a test checks).
TIMEOUT_DEFAULT = "60"
Timeout = Annotated[
    str,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help=_(
            "How long loading the file, the constructor, and each call of forward or "
            "backward may run before it is stopped and reported (default 60)."
        ),
        show_default=False,
    ),
]

Settings = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help=_(
            "A constructor argument that is a number, True/False or a list of numbers, e.g. "
            "--set stride=2, --set dropout_ratio=0.5, --set hidden_size_list=100,100."
        ),
    ),
]
Paths = Annotated[
    list[str] | None,
    typer.Option(
        "--path",
        metavar="FOLDER",
        help=_(
            "A folder to import from, besides the file's own and the current one (as "
            "python -m does: from the book's root, `from common.layers import Affine` works)."
        ),
    ),
]
Inits = Annotated[
    list[str] | None,
    typer.Option(
        "--init",
        metavar="NAME=SHAPE",
        help=_(
            "A constructor array, e.g. --init W=3,4 --init b=4 for the note's Affine "
            "(seeded standard-normal numbers)."
        ),
    ),
]
