"""The user's text to typed values, parsed once, at the API boundary.

Every option a command takes as text (``--shape 2,3``, ``--step 1e-5``, ``--dtype
float32``, ``--seed 7``, ``--timeout 5``) is parsed here, and nowhere else, into what
the core takes (tuples of ints, floats, ``np.dtype``, a :class:`Method`). Each parser
accepts only ASCII digits (Python's ``int`` would read Arabic-Indic ``٢`` or fullwidth
``２`` as 2), refuses text longer than :data:`MAX_CHARACTERS` before calling ``int`` or
``float`` (whose own limit on long numbers is a traceback), and refuses NaN and inf where
a finite number is needed. :func:`check_budget` refuses arrays too large to allocate,
before anything is allocated. Every refusal is one :class:`SymgradError` line.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad.errors import SymgradError
from symgrad.i18n import _

if TYPE_CHECKING:
    from symgrad.numeric.methods import Method

MAX_CHARACTERS = 100  # longer than any number or shape a check could use
MAX_ELEMENTS = 4_000_000  # per array: 32 MB in float64, several copies live at once
MAX_TOTAL_ELEMENTS = 3 * MAX_ELEMENTS  # all arrays of one check (affine's X, W, b at the limit)
MAX_RANK = 4
DTYPES = ("float64", "float32")
# Decimal numbers as Python writes them, and nan/inf (refused below, by name).
_NUMBER = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.ASCII | re.I
)


def _excerpt(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]}"


def plain_text(text: str, what: str) -> str:
    """``text`` stripped, if it is short ASCII; else one line naming what is wrong."""
    if len(text) > MAX_CHARACTERS:
        raise SymgradError(
            _("{what} '{text}' is {count:,} characters long; at most {limit} are accepted").format(
                what=what, text=_excerpt(text), count=len(text), limit=MAX_CHARACTERS
            )
        )
    for character in text:
        if not character.isascii():
            kind = _("digit") if character.isdigit() else _("character")
            raise SymgradError(
                _(
                    "{what} '{text}' contains '{character}' (U+{code:04X}), a non-ASCII {kind}; "
                    "type the digits 0-9"
                ).format(what=what, text=text, character=character, code=ord(character), kind=kind)
            )
    return text.strip()


def parse_shape(text: str, what: str = "shape", limit: int | None = None) -> tuple[int, ...]:
    """``"2,3"`` (or ``2x3``) → ``(2, 3)``: positive sizes, at most ``limit`` of them
    (:data:`MAX_RANK`, an array's, unless a layer's ``--shape`` holds more)."""
    limit = limit or MAX_RANK
    text = plain_text(text, what)
    parts = [p.strip() for p in text.replace("x", ",").split(",")] if text else []
    if not parts or any(not p for p in parts):
        raise SymgradError(
            _("malformed {what} '{text}': expected positive integers like 2,3").format(
                what=what, text=text
            )
        )
    dims = []
    for part in parts:
        if not part.lstrip("+-").isdigit():
            raise SymgradError(
                _("malformed {what} '{text}': '{part}' is not an integer").format(
                    what=what, text=text, part=part
                )
            )
        value = int(part)
        if value <= 0:
            raise SymgradError(
                _("impossible {what} '{text}': sizes must be positive, got {value}").format(
                    what=what, text=text, value=value
                )
            )
        dims.append(value)
    if len(dims) > limit:
        raise SymgradError(
            _("{what} '{text}' has {count} dimensions; at most {limit}").format(
                what=what, text=text, count=len(dims), limit=limit
            )
        )
    return tuple(dims)


def parse_count(text: str | int, what: str) -> int:
    """A positive integer (``--batch 4``)."""
    if isinstance(text, str):
        shown = plain_text(text, what)
        if not shown.isdigit() or int(shown) <= 0:
            raise SymgradError(
                _("{what} takes a positive integer, got '{shown}'").format(what=what, shown=shown)
            )
        return int(shown)
    if isinstance(text, bool) or not isinstance(text, int | np.integer) or text <= 0:
        raise SymgradError(
            _("{what} takes a positive integer, got {text}").format(what=what, text=repr(text))
        )
    return int(text)


ORDERS = (1, 2)


def parse_order(text: str | int) -> int:
    """The order of the derivatives (``--order 2``): 1 or 2."""
    shown = plain_text(text, "--order") if isinstance(text, str) else text
    if isinstance(shown, bool) or str(shown) not in {str(order) for order in ORDERS}:
        raise SymgradError(_("--order takes 1 or 2, got {shown}").format(shown=repr(shown)))
    return int(shown)


@dataclass(frozen=True)
class Point:
    """What ``--at`` gave: values by input name (``x=1,y=2``), or one bare value
    (``0.5``); values stay text until the command that uses them reads them."""

    named: dict[str, str]
    bare: str | None = None

    def for_inputs(self, names: Sequence[str], every: bool) -> dict[str, str]:
        """The value of each named input; a bare value goes to every input when
        ``every`` (compare and steps fill all inputs with it), else only to a single one.

        Raises:
            SymgradError: a name that is not an input, or a bare value for several.
        """
        unknown = [name for name in self.named if name not in names]
        if unknown:
            raise SymgradError(
                _("--at gives {names}, not an input (the inputs: {inputs})").format(
                    names=", ".join(repr(n) for n in unknown), inputs=", ".join(names)
                )
            )
        if self.bare is None:
            return dict(self.named)
        if not every and len(names) != 1:
            example = ",".join(f"{name}=1" for name in names)
            raise SymgradError(
                _(
                    "--at {bare}: there are {count} inputs, so name each, e.g. --at {example}"
                ).format(bare=self.bare, count=len(names), example=example)
            )
        return {name: self.bare for name in names}


def parse_point(given: str | float | Sequence[str] | Mapping[str, Any] | None) -> Point:
    """``--at``, given once or several times: ``0.5``, or ``x=1,y=2``, or a mapping of
    names to values (from Python)."""
    if given is None:
        return Point({})
    if isinstance(given, Mapping):
        return Point({str(name): str(value) for name, value in given.items()})
    if isinstance(given, int | float):
        return Point({}, str(given))
    texts = [given] if isinstance(given, str) else list(given)
    named: dict[str, str] = {}
    bare = []
    for text in texts:
        if len(text) > MAX_CHARACTERS:
            plain_text(text, "--at")  # the one line on what is too long
        for part in text.split(","):
            name, equals, value = (piece.strip() for piece in part.partition("="))
            if not part.strip():
                continue
            # Names may be the note's Chinese (苹果), as in the expression; values are
            # numbers in ASCII digits.
            name = unicodedata.normalize("NFKC", name)
            if not equals:
                bare.append(plain_text(name, "--at"))
            elif not name or not value:
                raise SymgradError(
                    _("--at {part}: write NAME=VALUE, e.g. --at x=1,y=2").format(
                        part=repr(part.strip())
                    )
                )
            elif name in named:
                raise SymgradError(_("--at gives {name} twice").format(name=repr(name)))
            else:
                named[name] = plain_text(value, f"--at {name}")
    if bare and (named or len(bare) > 1):
        raise SymgradError(
            _(
                "--at {given}: give one value for every input (--at 0.5) or each input by name "
                "(--at x=1,y=2), not both"
            ).format(given=",".join(texts))
        )
    return Point(named, bare[0] if bare else None)


def parse_at(
    given: str | float | Sequence[str] | Mapping[str, Any] | None, names: Sequence[str]
) -> dict[str, float] | None:
    """``--at`` for compare and steps: each input's number (a bare value fills every
    input; inputs not named keep their seeded values), or None when not given."""
    if given is None:
        return None
    values = parse_point(given).for_inputs(names, every=True)
    return {name: parse_number(value, f"--at {name}") for name, value in values.items()}


def parse_init(text: str) -> tuple[str, tuple[int, ...]]:
    """``--init W=3,3`` → ("W", (3, 3))."""
    name, equals, shape = plain_text(text, "--init").partition("=")
    name = name.strip()
    if not equals or not name.isidentifier():
        raise SymgradError(
            _("malformed --init '{text}': expected NAME=SHAPE, e.g. W=3,4").format(text=text)
        )
    return name, parse_shape(shape, f"--init {name}")


Scalar = bool | int | float


def parse_setting(text: str, what: str) -> tuple[str, Scalar | list[Scalar]]:
    """``--set stride=2`` or ``--flag train_flg=True`` → (name, value): an integer, a
    finite float or True/False, or a list of them separated by commas
    (``hidden_size_list=100,100``), read as data (nothing is evaluated)."""
    name, equals, value = plain_text(text, what).partition("=")
    name, value = name.strip(), value.strip()
    if not equals or not name.isidentifier() or not value:
        raise SymgradError(
            _(
                "malformed {what} '{text}': expected NAME=VALUE, e.g. stride=2, ratio=0.5 or "
                "train_flg=True"
            ).format(what=what, text=text)
        )
    if "," in value:
        return name, [_scalar(part.strip(), f"{what} {name}") for part in value.split(",")]
    return name, _scalar(value, f"{what} {name}")


def _scalar(value: str, what: str) -> Scalar:
    if value in ("True", "False"):
        return value == "True"
    if re.fullmatch(r"[+-]?\d+", value, re.ASCII):
        return int(value)
    return parse_number(value, what)


def parse_input(text: str) -> tuple[tuple[int, ...], int | None]:
    """``--input 2,3`` → ((2, 3), None): a float input, differentiated; ``--input 3:10``
    → ((3,), 10): an integer input with values in [0, 10) (class labels, word ids),
    never differentiated."""
    shape, colon, high = plain_text(text, "--input").rpartition(":")
    if not colon:
        return parse_shape(text, "--input"), None
    if not high.isdigit() or int(high) <= 0:
        raise SymgradError(
            _(
                "malformed --input '{text}': an integer input is SHAPE:HIGH, e.g. 3:10 for three "
                "class labels from 0 to 9, or 2,5:7 for a batch of word ids"
            ).format(text=text)
        )
    return parse_shape(shape, "--input"), int(high)


def parse_number(text: str | float, what: str, positive: bool = False) -> float:
    """A finite number (``0.5``, ``-1e-3``), positive when ``positive``; no NaN, no inf."""
    if isinstance(text, str):
        shown = plain_text(text, what)
        if not _NUMBER.fullmatch(shown):
            raise SymgradError(
                _("{what} takes a number, e.g. 0.5 or 1e-5, got '{shown}'").format(
                    what=what, shown=shown
                )
            )
        value = float(shown)
    elif isinstance(text, bool) or not isinstance(text, int | float | np.integer | np.floating):
        raise SymgradError(
            _("{what} takes a number, got {text}").format(what=what, text=repr(text))
        )
    else:
        value = float(text)
    if positive and not (math.isfinite(value) and value > 0):
        raise SymgradError(
            _("{what} must be a positive finite number, got {text}").format(what=what, text=text)
        )
    if not math.isfinite(value):
        raise SymgradError(
            _("{what} must be a finite number, got {text}").format(what=what, text=text)
        )
    return value


def parse_step(text: str | float | None) -> float | None:
    """``--step H``: a positive finite step, or None for the automatic one."""
    return None if text is None else parse_number(text, "--step", positive=True)


def parse_timeout(text: str | float | None) -> float | None:
    """``--timeout SECONDS``: how long one call into the user's code may run."""
    return None if text is None else parse_number(text, "--timeout", positive=True)


def parse_seed(text: str | int) -> int:
    """``--seed N``: a non-negative integer."""
    if isinstance(text, str):
        shown = plain_text(text, "--seed")
        if not shown.isdigit():
            raise SymgradError(
                _("seed must be a non-negative integer, got '{shown}'").format(shown=shown)
            )
        return int(shown)
    if isinstance(text, bool) or not isinstance(text, int | np.integer) or text < 0:
        raise SymgradError(
            _("seed must be a non-negative integer, got {text}").format(text=repr(text))
        )
    return int(text)


def parse_dtype(text: str | np.dtype | type) -> np.dtype:
    """``float64`` or ``float32`` (as text, a NumPy dtype or a scalar type)."""
    if isinstance(text, str):
        text = plain_text(text, "--dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in DTYPES:
        raise SymgradError(_("unknown dtype '{text}'; choose float64 or float32").format(text=text))
    return dtype


def parse_method(text: str | Method) -> Method:
    """A numeric method by its ``--method`` name (``five_point`` and ``FivePoint`` too)."""
    from symgrad.numeric.methods import METHOD_NAMES, METHODS, Method

    if isinstance(text, Method):
        return text
    key = "".join(ch for ch in plain_text(text, "--method").lower() if ch.isalnum())
    for method in METHODS.values():
        if key == method.name.replace("-", ""):
            return method
    raise SymgradError(
        _("unknown method '{text}'; choose one of {names}").format(
            text=text, names=", ".join(METHOD_NAMES)
        )
    )


def check_budget(shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Refuse arrays too large to check, before any is allocated: each at most
    :data:`MAX_ELEMENTS` elements, all together at most :data:`MAX_TOTAL_ELEMENTS`."""
    for name, dims in shapes.items():
        size = math.prod(dims)
        if size > MAX_ELEMENTS:
            raise SymgradError(
                _("shape {shape} for {name} has {size:,} elements; the limit is {limit:,}").format(
                    shape=",".join(map(str, dims)), name=name, size=size, limit=MAX_ELEMENTS
                )
            )
    total = sum(math.prod(dims) for dims in shapes.values())
    if total > MAX_TOTAL_ELEMENTS:
        raise SymgradError(
            _(
                "the arrays ({names}) have {total:,} elements together; the limit is {limit:,}"
            ).format(names=", ".join(shapes), total=total, limit=MAX_TOTAL_ELEMENTS)
        )
