"""Findings in words: what a layer does wrong, and the sentence that names the fix.

Each function here turns an observation (an array that changed, a gradient of the wrong
shape, a gradient that disagrees with numeric differences) into a
:class:`~symgrad.checking.report.Finding`. The hints look for the patterns behind the
common mistakes: a constant factor (1/N applied twice, a stray 2), a transpose, a flipped
sign, a backward that ignores ``dout``, an error confined to where an input is positive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from symgrad.checking.containment import UserCodeFailed
from symgrad.checking.gradients import Verified, differences, worst_index
from symgrad.checking.report import Finding, WrongGradient
from symgrad.comparison.tolerance import numeric_bound
from symgrad.i18n import N_, _, listed, ngettext
from symgrad.reports import GradientCheck

# Every kind of finding, and what it means (translated where it is shown): the site's
# reference of findings is made from this table, and a test fails on a finding of a kind
# that is not in it.
MEANINGS = {
    "forward-raised": N_("forward raised an exception on the inputs given."),
    "forward-returned-none": N_("forward computed its output but never returned it."),
    "forward-not-array": N_(
        "forward returned something that is not an array of floats "
        "(None, a list, a string, integers)."
    ),
    "forward-not-finite": N_(
        "forward returned inf or NaN on the inputs given: an overflow, or a log or a division at 0."
    ),
    "forward-complex": N_("forward returned complex values for real inputs."),
    "forward-changed-input": N_("forward wrote into an array it was given."),
    "backward-raised": N_(
        "backward raised an exception when called with a dout of the output's shape."
    ),
    "backward-returned-none": N_("backward returned None instead of the input's gradient."),
    "gradient-count": N_(
        "backward returned more or fewer gradients than forward has differentiated inputs."
    ),
    "gradient-shape": N_(
        "a gradient's shape is not the shape of what it is the gradient of "
        "(often a missing sum over the batch, or a transpose)."
    ),
    "gradient-not-usable": N_(
        "a gradient is not an array of real, finite numbers (NaN, a string, complex values)."
    ),
    "gradient-missing": N_(
        "backward did not store a parameter's gradient (self.dW is missing or None afterwards)."
    ),
    "dout-modified": N_("backward wrote into dout, which belongs to the layer above."),
    "input-modified": N_("backward wrote into an input it kept from forward."),
    "parameter-modified": N_("backward changed a parameter: updates belong in the optimizer."),
    "not-deterministic": N_(
        "two backward calls after the same forward gave different "
        "gradients: backward keeps state or draws random numbers."
    ),
    "dout-ignored": N_(
        "backward returns the same gradient whatever dout is: it does not "
        "multiply by the upstream gradient."
    ),
    "dout-misused": N_(
        "backward is not linear in dout (it squares dout, adds to it, or branches on it)."
    ),
    "wrong-gradient": N_(
        "a gradient disagrees with the forward's numeric derivative: the "
        "message names the elements, the three values at the worst one and a hint (a factor, "
        "a transpose, a sign, a region)."
    ),
    "no-gradient-stored": N_(
        "the layer holds an array that forward uses but for which "
        "backward stores no gradient: a parameter left unchecked, or a constant."
    ),
    "nothing-checked": N_("no gradient could be compared, so nothing is vouched for."),
    "smoothed-forward": N_(
        "the gradient is the exact derivative of a formula the forward "
        "smooths slightly (the 1e-7 inside the book's log): a warning; --strict makes it an "
        "error."
    ),
    "forward-not-repeatable": N_(
        "forward returns different outputs for the same arrays, even "
        "with its random numbers and attributes put back."
    ),
    "model-gradient": N_("a network's own gradient() is not the gradient of its loss()."),
    "loss-ignores-dout": N_(
        "a loss layer's backward assumes dout = 1: right while the loss "
        "is the last thing computed, wrong once it is scaled or added to; a warning."
    ),
    "user-code-exit": N_("the user's code called sys.exit (or exit) during the check."),
    "user-code-interrupt": N_("the user's code raised KeyboardInterrupt during the check."),
    "user-code-timeout": N_(
        "one call of the user's code ran longer than --timeout and was stopped."
    ),
    "user-code-raised": N_("the user's code raised on inputs a small step from the ones given."),
    "method-raised": N_("an activation's fn, grad or grad2 raised an exception."),
    "method-result-unusable": N_(
        "an activation's fn, grad or grad2 returned something that "
        "is not an array of the input's shape."
    ),
    "method-random": N_(
        "an activation's fn, grad or grad2 gave different results for the same input."
    ),
    "hvp-unchecked": N_(
        "a layer's hvp(x, v) takes one x, but its forward has several "
        "differentiated inputs: the hvp is left unchecked; a warning."
    ),
}
KINDS = tuple(MEANINGS)


SLIGHT = 1e-4  # a relative disagreement this small is a slightly different function
SLIGHTLY_DIFFERENT = N_(
    "forward and backward compute slightly different functions (a smoothing constant in "
    "the forward that the backward leaves out, like the + 1e-7 inside the log of the "
    "book's cross_entropy_error, or a constant copied with too few digits)"
)


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _number(value: float) -> str:
    return f"{value:.6g}"


def then(sentence: str, following: str) -> str:
    """Two sentences in a row (English puts a space between them; Chinese does not)."""
    return _("{sentence} {following}").format(sentence=sentence, following=following)


def change(before: np.ndarray, after: np.ndarray) -> str:
    """How an array was changed in place, in words: ``set 2 of 6 elements to 0``."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        return _("reshaped it from {before} to {after}").format(
            before=_shape(before.shape), after=_shape(after.shape)
        )
    moved = ~((before == after) | (np.isnan(before) & np.isnan(after)))
    count = int(moved.sum())
    of = ngettext("{count} of {size} element", "{count} of {size} elements", before.size).format(
        count=count, size=before.size
    )
    values = np.unique(after[moved])
    if values.size == 1:
        return _("set {elements} to {value}").format(elements=of, value=_number(float(values[0])))
    return _("changed {elements}").format(elements=of)


# ---------------------------------------------------------------- forward


def forward_raised(layer: str, error: BaseException) -> Finding:
    return Finding(
        "forward-raised",
        _(
            "{layer}.forward raised {error_type}: {error}. Fix the forward (or the shapes "
            "passed with --input/--init) so that it runs on these inputs."
        ).format(layer=layer, error_type=type(error).__name__, error=error),
    )


def forward_returned_none(layer: str) -> Finding:
    return Finding(
        "forward-returned-none",
        _(
            "{layer}.forward returned None: it computes its output but never returns it. "
            "Add `return out` at the end of forward."
        ).format(layer=layer),
    )


def forward_not_array(layer: str, out: object) -> Finding:
    what = type(out).__name__
    if isinstance(out, tuple | list):
        what = _("a {type} of {length}").format(type=what, length=len(out))
        fix = _("return the output array alone and keep anything else as an attribute")
    else:
        fix = _("return a NumPy array of floats (or a float, for a loss)")
    return Finding(
        "forward-not-array",
        _("{layer}.forward returned {what}, not an array of floats: {fix}.").format(
            layer=layer, what=what, fix=fix
        ),
    )


def forward_not_float(layer: str, dtype: np.dtype) -> Finding:
    return Finding(
        "forward-not-array",
        _(
            "{layer}.forward returned an array of {dtype} values: a derivative of integers "
            "or booleans is meaningless. Compute the output in floating point."
        ).format(layer=layer, dtype=dtype),
    )


def forward_not_finite(layer: str, out: np.ndarray) -> Finding:
    bad = int(np.size(out) - np.isfinite(out).sum())
    return Finding(
        "forward-not-finite",
        _(
            "{layer}.forward returned {count} non-finite value(s) (inf or NaN) on these "
            "inputs: an overflow in exp, a log or division at 0? Make the forward stable "
            "(e.g. subtract the row maximum before exp) or check it on inputs in its domain."
        ).format(layer=layer, count=bad),
    )


def forward_complex(layer: str) -> Finding:
    return Finding(
        "forward-complex",
        _(
            "{layer}.forward returned complex values for real inputs: a layer's output is "
            "real (np.sqrt or ** of a negative number, or a complex constant?). Keep the "
            "forward real."
        ).format(layer=layer),
    )


def changed_argument(layer: str, method: str, what: str, before, after, kind: str) -> Finding:
    """``forward``/``backward`` wrote into an array the caller owns (``what``, in words:
    ``its dout argument``)."""
    if kind == "dout-modified":
        fix = _(
            "Whoever passed dout (the layer above, or a test reusing it) finds its values "
            "overwritten. Work on a copy: dx = dout.copy(), then change dx."
        )
    elif kind == "parameter-modified":
        fix = _(
            "A gradient check (and the caller) expects parameters to stay put; update them "
            "outside backward, in the optimizer step."
        )
    else:
        fix = _("The caller's array changes under it. Compute into a new array instead.")
    wrote = _("{layer}.{method} wrote into {what} in place ({change}).").format(
        layer=layer, method=method, what=what, change=change(before, after)
    )
    return Finding(kind, then(wrote, fix), subject=what)


# ---------------------------------------------------------------- backward


def backward_raised(layer: str, error: BaseException, dout_shape: tuple[int, ...]) -> Finding:
    return Finding(
        "backward-raised",
        _(
            "{layer}.backward raised {error_type}: {error} (called with a dout of shape "
            "{shape}, the output's shape). Fix backward so that it accepts the gradient of "
            "the output it returned."
        ).format(
            layer=layer, error_type=type(error).__name__, error=error, shape=_shape(dout_shape)
        ),
    )


def not_numbers(value: object) -> str | None:
    """What ``value`` is, in words, when it is not an array of real, finite numbers (a
    string, complex or object values, a ragged list, NaN); None when it is one."""
    if isinstance(value, str | bytes):
        return _("a {type}, {start},").format(type=type(value).__name__, start=repr(value[:20]))
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # a ragged list
        array = None
    if array is None or array.dtype == object:
        return _("a {type} that is not an array of numbers").format(type=type(value).__name__)
    if np.iscomplexobj(array):
        return _("complex values")
    if not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        return _("{dtype} values").format(dtype=array.dtype)
    if not np.all(np.isfinite(array)):
        bad = int(array.size - np.isfinite(array).sum())
        return ngettext(
            "{count} non-finite value (NaN or inf)", "{count} non-finite values (NaN or inf)", bad
        ).format(count=bad)
    return None


def unusable_gradient(layer: str, gradient: str, value: object) -> Finding | None:
    """A finding when what backward gave for ``gradient`` is not an array of real, finite
    numbers (:func:`not_numbers`); else None."""
    what = not_numbers(value)
    if what is None:
        return None
    return Finding(
        "gradient-not-usable",
        _(
            "{layer}.backward returned {what} for {gradient}: a gradient is an array of "
            "real, finite numbers with its array's shape. Return the gradient itself "
            "(np.real, a stable formula, or the right variable)."
        ).format(layer=layer, what=what, gradient=gradient),
        subject=gradient,
    )


def backward_returned_none(layer: str, names: Sequence[str]) -> Finding:
    grads = listed([f"d{n}" for n in names])
    return Finding(
        "backward-returned-none",
        ngettext(
            "{layer}.backward returned None: return the gradient of each input, {gradients}.",
            "{layer}.backward returned None: return the gradient of each input, {gradients} "
            "(a tuple).",
            len(names),
        ).format(layer=layer, gradients=grads),
    )


def gradient_count(layer: str, got: int, names: Sequence[str]) -> Finding:
    grads = listed([f"d{n}" for n in names])
    expected = len(names)
    returned = ngettext(
        "{layer}.backward returned {count} gradient",
        "{layer}.backward returned {count} gradients",
        got,
    ).format(layer=layer, count=got)
    takes = ngettext(
        "{returned}, but forward takes {expected} differentiated input ({inputs}): return "
        "exactly {gradients}.",
        "{returned}, but forward takes {expected} differentiated inputs ({inputs}): return "
        "exactly {gradients}, as a tuple in forward's order.",
        expected,
    )
    return Finding(
        "gradient-count",
        takes.format(returned=returned, expected=expected, inputs=listed(names), gradients=grads),
    )


def gradient_shape(
    layer: str, gradient: str, array: str, got: tuple[int, ...], want: tuple[int, ...]
) -> Finding:
    hint = None
    if got == want[::-1]:
        hint = _("It has the transposed shape: check the order of the product (or return .T).")
    elif len(got) == len(want) + 1 and got[1:] == want:
        hint = _("It has an extra leading axis: sum over the batch, np.sum(…, axis=0).")
    elif len(got) == len(want) and got[1:] == want[1:] and want[0] == 1:
        hint = _("Sum over the batch axis with keepdims=True.")
    elif np.prod(got) == np.prod(want):
        hint = _("It has the right number of elements: a reshape or transpose went astray.")
    message = _(
        "{layer}: {gradient} has shape {got} but {array} has shape {want}; a gradient always "
        "has the shape of what it is the gradient of."
    ).format(layer=layer, gradient=gradient, got=_shape(got), array=array, want=_shape(want))
    return Finding(
        "gradient-shape",
        message if hint is None else then(message, hint),
        subject=gradient,
    )


def gradient_missing(layer: str, param: str) -> Finding:
    return Finding(
        "gradient-missing",
        _(
            "{layer}.backward did not store d{param} (it is missing or None after backward): "
            "set self.d{param} = the gradient of {param} in backward."
        ).format(layer=layer, param=param),
        subject=f"d{param}",
    )


def no_gradient_stored(layer: str, name: str) -> Finding:
    return Finding(
        "no-gradient-stored",
        _(
            "{layer} holds an array {name} that forward uses as it is, but backward stores no "
            "d{name}: if {name} is a parameter, store its gradient as self.d{name} (pass "
            "params=… to name the parameters explicitly); if it is a constant, ignore this."
        ).format(layer=layer, name=name),
        severity="warning",
        subject=name,
    )


def nothing_checked(layer: str) -> Finding:
    return Finding(
        "nothing-checked",
        _(
            "{layer}: no gradient was compared, so nothing is vouched for: every input is a "
            "constant and no parameter with a stored gradient was found; leave the inputs "
            "to differentiate out of constants=/--labels, or name the parameters with "
            "params=…"
        ).format(layer=layer),
    )


def not_deterministic(layer: str, gradient: str, difference: float, stored: bool) -> Finding:
    how = (
        _("assign self.{gradient} = … rather than accumulating with +=").format(gradient=gradient)
        if stored
        else _("change nothing that forward saved")
    )
    return Finding(
        "not-deterministic",
        _(
            "{layer}.backward is not deterministic: two calls after the same forward gave "
            "{gradient}s that differ by up to {difference}. Backward must not keep state "
            "between calls: {how}, and draw no random numbers in backward."
        ).format(layer=layer, gradient=gradient, difference=f"{difference:.3g}", how=how),
        subject=gradient,
    )


def dout_ignored(layer: str, gradients: Sequence[str]) -> Finding:
    names = ", ".join(gradients)  # also the subject, which stays as the JSON has it
    return Finding(
        "dout-ignored",
        _(
            "{layer}.backward ignores dout: with dout = 0 it still returns nonzero "
            "{gradients}. Each gradient is dout times the local derivative; multiply by dout "
            "(for a loss layer too: it is 1 only when the loss is the last thing computed)."
        ).format(layer=layer, gradients=listed(gradients)),
        subject=names,
    )


def forward_not_repeatable(layer: str) -> Finding:
    return Finding(
        "forward-not-repeatable",
        _(
            "{layer}.forward returns different outputs for the same arrays, even with "
            "NumPy's random numbers and the layer's own attributes put back before every "
            "call: no derivative of it can be checked. Draw random numbers from np.random or "
            "a generator kept on the layer, and keep what changes between calls in the "
            "layer's attributes."
        ).format(layer=layer),
    )


def loss_ignores_dout(layer: str, names: str) -> Finding:
    return Finding(
        "loss-ignores-dout",
        _(
            "{layer}.backward ignores dout ({gradients} is the same for dout = 0). For a loss "
            "that is harmless while it is the last thing computed, where dout = 1; it is "
            "wrong as soon as the loss is scaled or added to another (a weight-decay term, a "
            "second head): multiply by dout to be safe."
        ).format(layer=layer, gradients=names),
        severity="warning",
        subject=names,
    )


def smoothed_forward(layer: str, gradient: str, formula: str, deviation: float) -> Finding:
    return Finding(
        "smoothed-forward",
        _(
            "{layer}: {gradient} is the exact derivative of {formula}, but the forward "
            "differs from {formula} by a relative {deviation}, so it disagrees slightly with "
            "the forward's numeric derivative. Likely a smoothing constant the backward "
            "leaves out (the book's cross_entropy_error takes log(y + 1e-7)): fine for "
            "training; pass --strict to count it as an error."
        ).format(layer=layer, gradient=gradient, formula=formula, deviation=f"{deviation:.1g}"),
        severity="warning",
        subject=gradient,
    )


def dout_misused(layer: str, gradients: Sequence[str]) -> Finding:
    return Finding(
        "dout-misused",
        _(
            "{layer}.backward is not linear in dout: doubling dout does not double "
            "{gradients}. A backward multiplies dout by local derivatives and sums; it never "
            "squares dout, adds a constant to it, or uses it in a condition."
        ).format(layer=layer, gradients=listed(gradients)),
    )


# ---------------------------------------------------------------- wrong values


def _factors(dims: dict[int, str]) -> list[tuple[float, str, str]]:
    """Constant factors worth naming: (value, as written, what it is)."""
    named = [(2.0, "2", ""), (0.5, "1/2", "")]
    for size, meaning in dims.items():
        if size > 2:
            named += [(float(size), str(size), meaning), (1 / size, f"1/{size}", meaning)]
    return named


def factor_hint(
    backward: np.ndarray, numeric: np.ndarray, allowed: np.ndarray, dims, who: str = "backward"
) -> str | None:
    """The backward (or ``who``, the method that computed it) is c × the right gradient
    everywhere, for some c ≠ 1 (each element within ``allowed``, its own bound, of c ×
    numeric).

    c is fitted by least squares, then snapped to a named factor (2, 1/N, −1, …) when it
    is within 1e-6 of one; the elements are held to the named factor itself, or, for an
    unnamed c, to c with room for the fit's own error.
    """
    norm = float(np.sum(numeric * numeric))
    if norm == 0 or not np.all(np.isfinite(backward)):
        return None
    c = float(np.sum(backward * numeric)) / norm
    named = [(-1.0, "−1", ""), *_factors(dims)]
    match = next(((v, w, m) for v, w, m in named if abs(c / v - 1) < 1e-6), None)
    if match is not None:
        c = match[0]
        fit = 0.0
    else:  # the fit's error: what the numeric values' errors can move c by
        fit = float(np.sum(np.abs(backward) * allowed)) / norm
    room = 2 * (allowed * max(1.0, abs(c)) + fit * np.abs(numeric))
    if not np.all(np.abs(backward - c * numeric) <= room):
        return None
    if c == -1:
        return _(
            "the sign is flipped: {who} is −1 × the right gradient everywhere (a difference "
            "taken the wrong way round, e.g. t − y instead of y − t)"
        ).format(who=who)
    if match is not None:
        value, written, meaning = match
        size = written.removeprefix("1/")
        if value > 1:
            fix = _("a factor {size} too many, or a division by {size} missing")
        else:
            fix = _("divided by {size} once too often, or a factor {size} missing")
        if meaning:
            hint = _("{who} is {factor} × the right gradient everywhere ({size} is {meaning})")
        else:
            hint = _("{who} is {factor} × the right gradient everywhere")
        return _("{hint}: {fix}").format(
            hint=hint.format(who=who, factor=written, size=size, meaning=meaning),
            fix=fix.format(size=size),
        )
    if abs(c - 1) < SLIGHT:
        return _(
            "{who} is {factor} × the right gradient everywhere, off by a relative {off}: {slightly}"
        ).format(
            who=who, factor=f"{c:.9g}", off=f"{abs(c - 1):.1g}", slightly=_(SLIGHTLY_DIFFERENT)
        )
    if c == 0:
        return None
    return _("{who} is {factor} × the right gradient everywhere: a constant factor is off").format(
        who=who, factor=f"{c:.6g}"
    )


def transpose_hint(backward: np.ndarray, numeric: np.ndarray, allowed: np.ndarray) -> str | None:
    """Square gradient whose transpose is right (each element within ``allowed``)."""
    if backward.ndim != 2 or backward.shape[0] != backward.shape[1] or backward.shape[0] < 2:
        return None
    if np.all(np.abs(backward.T - numeric) <= allowed):
        return _(
            "backward is the transpose of the right gradient: the factors of a product are "
            "in the wrong order (e.g. dout·xᵀ where xᵀ·dout is meant), or a .T is missing"
        )
    return None


def weight_hint(
    check: GradientCheck, inputs: dict[str, np.ndarray], dout: np.ndarray | None
) -> str | None:
    """The commonest learner's slip: dx = dout·W where dout·Wᵀ is meant, which a square W
    lets through every shape check."""
    if dout is None or np.ndim(dout) != 2 or check.backward.ndim != 2:
        return None
    for name, W in inputs.items():
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] != np.shape(dout)[1]:
            continue
        slip = np.asarray(dout, dtype=np.float64) @ W
        if slip.shape != check.backward.shape:
            continue
        scale = float(np.max(np.abs(slip), initial=0.0)) or 1.0
        close = np.all(np.abs(check.backward - slip) <= check.bound + 1e-12 * scale)
        if close and not np.all(np.abs(check.numeric - slip) <= check.bound):
            return _(
                "backward computes dout·{name} where dout·{name}ᵀ is meant ({name} is square, "
                "so the shapes did not catch it): transpose it"
            ).format(name=name)
    return None


def unreached_hint(check: GradientCheck) -> str | None:
    """Every wrong element is one the output does not depend on at all (its numeric
    gradient is 0) that backward still sends a gradient to: a max pooling that hands
    dout to every element of a window instead of only to its largest."""
    wrong = check.disagreeing
    if not wrong.any():
        return None
    unreached = (check.numeric == 0) & (check.backward != 0)
    if not np.all(unreached[wrong]):
        return None
    return _(
        "backward sends a gradient to {count} elements the output does not depend on (their "
        "numeric gradient is 0), as a max pooling does that routes dout to every element of "
        "a window: only the window's largest element reaches the output, so only it gets dout"
    ).format(count=int(wrong.sum()))


def where_hint(wrong: np.ndarray, inputs: dict[str, np.ndarray]) -> str | None:
    """The wrong elements are exactly where some input is positive, or not."""
    if wrong.all() or not wrong.any():
        return None
    for name, x in inputs.items():
        if np.shape(x) != wrong.shape:
            continue
        x = np.real(np.asarray(x))
        for mask, text in ((x > 0, f"{name} > 0"), (x <= 0, f"{name} ≤ 0")):
            if np.array_equal(mask, wrong):
                return _("it is wrong exactly where {region} and right elsewhere").format(
                    region=text
                )
    return None


def column_hint(backward: np.ndarray, right: np.ndarray, allowed: np.ndarray) -> str | None:
    """The error is the same in every row of each column (and not zero): a term summed
    over the batch, added to every row, is missing or wrong; batch normalisation's path
    through the mean, −Σ dout, is the one commonly left out."""
    if backward.ndim != 2 or backward.shape[0] < 2:
        return None
    error = backward - right
    if np.all(np.abs(error) <= allowed):
        return None
    spread = np.abs(error - error[:1])
    if not np.all(spread <= 2 * (allowed + allowed[:1])):
        return None
    return _(
        "the error is the same in every row of each column: a term summed over the batch "
        "(Σ over the rows of dout, or of dout times something) is missing or wrong; in "
        "batch normalisation, the path through the mean: dx needs −Σdout (times γ/(N·σ))"
    )


def mask_hint(backward: np.ndarray, right: np.ndarray, allowed: np.ndarray) -> str | None:
    """Where both are nonzero they agree, and every wrong element is zero in one of them:
    backward lets the gradient through at other elements than forward did (a new mask)."""
    close = np.abs(backward - right) <= allowed
    if close.all():
        return None
    zero_b, zero_r = np.abs(backward) <= allowed, np.abs(right) <= allowed
    if not np.all(close | (zero_b ^ zero_r)) or not (zero_b & ~close).any():
        return None
    return _(
        "backward lets the gradient through at other elements than forward does: it is "
        "zero where forward's output depends on the input, and nonzero where it does not. "
        "Its mask is not forward's, as when a dropout draws a new mask in backward: keep "
        "the mask forward drew (self.mask) and multiply dout by that same mask"
    )


def ulps(a: float, b: float, dtype: np.dtype) -> float:
    """|a − b| in units in the last place of b, in the layer's dtype."""
    if b == 0:  # every number is infinitely many ulps of 0 away: no measure there
        return float("nan")
    return abs(a - b) / float(np.spacing(np.abs(np.asarray(b, dtype=dtype))))


def wrong_gradient(
    layer: str,
    array: str,
    verified: Verified,
    dtype: np.dtype,
    dims: dict[int, str],
    inputs: dict[str, np.ndarray],
    right_for_ones: bool = False,
    dout: np.ndarray | None = None,
) -> tuple[WrongGradient, Finding]:
    """The evidence and the sentence for a gradient that disagrees with numeric values
    (``dout``, the upstream gradient backward was given, lets a hint name dout·W where
    dout·Wᵀ is meant)."""
    check, numeric, sides = verified.check, verified.numeric, verified.sides
    index = worst_index(check)
    gap = differences(check, sides)
    wrong = check.disagreeing
    b, n = float(check.backward[index]), float(check.numeric[index])
    largest = float(np.max(np.abs(check.numeric), initial=0.0))
    absolute = float(gap[index])
    symbolic = None if check.symbolic is None else float(check.symbolic[index])
    relative = absolute / largest if largest else float("inf")
    hints = []
    if right_for_ones:
        hints.append(
            _(
                "it equals the gradient for dout = 1 (all ones): backward is right only where "
                "dout is 1; multiply by dout"
            )
        )
    hints += pattern_hints(check, dims, inputs, relative)
    untransposed = weight_hint(check, inputs, dout)
    if untransposed:
        hints.insert(0, untransposed)
    evidence = WrongGradient(
        name=check.name,
        array=array,
        index=index,
        backward=b,
        numeric=n,
        numeric_error=float(numeric_bound(numeric)[index]),
        symbolic=symbolic,
        absolute=absolute,
        relative=relative,
        ulps=ulps(b, n, dtype),
        wrong=int(wrong.sum()),
        size=int(wrong.size),
        hints=tuple(hints),
    )
    return evidence, Finding("wrong-gradient", describe_wrong(layer, evidence), subject=check.name)


def pattern_hints(
    check: GradientCheck,
    dims: dict[int, str],
    inputs: dict[str, np.ndarray],
    relative: float,
    who: str = "backward",
) -> list[str]:
    """The patterns a wrong gradient fits: a constant factor, a transpose, wrong exactly
    where an input is positive; else, for a small ``relative`` disagreement, that it is
    slight.

    Where a symbolic column is known and the backward disagrees with it, the patterns are
    read against the formula's exact derivative: a forward with a smoothing constant (the
    book's log(y + 1e-7)) then cannot hide a factor 1/N or a flipped sign."""
    tolerance = check.bound
    right = check.numeric
    if check.symbolic is not None and not check.worst["backward_vs_symbolic"].ok:
        right = check.symbolic
    hints = [
        hint
        for hint in (
            factor_hint(check.backward, right, tolerance, dims, who),
            transpose_hint(check.backward, right, tolerance),
            unreached_hint(check),
            where_hint(check.disagreeing, inputs),
            mask_hint(check.backward, right, tolerance),
            # Against the numeric derivative too: a recognised formula may differ from the
            # forward by a constant (batch norm's ε) far more than this error's spread.
            column_hint(check.backward, right, tolerance)
            or column_hint(check.backward, check.numeric, tolerance),
        )
        if hint
    ]
    if not hints and relative < SLIGHT:
        hints.append(
            _("the disagreement is slight (relative {relative}): {slightly}").format(
                relative=f"{relative:.1g}", slightly=_(SLIGHTLY_DIFFERENT)
            )
        )
    return hints


def _at(w: WrongGradient) -> str:
    return f"{w.array}[{', '.join(map(str, w.index))}]" if w.index else w.array


def _shown(w: WrongGradient):
    """A formatter with enough digits that the claimed and numeric values visibly differ."""
    scale = max(abs(w.backward), abs(w.numeric), 1e-300)
    digits = min(17, max(6, 2 + math.ceil(-math.log10(max(w.absolute / scale, 1e-17)))))
    return lambda value: f"{value:.{digits}g}"


def _off_by(w: WrongGradient) -> str:
    off = _("off by {absolute}, relative {relative}").format(
        absolute=f"{w.absolute:.3g}", relative=f"{w.relative:.2g}"
    )
    if not math.isfinite(w.ulps):
        return off
    return off + _(", {ulps} ulp").format(ulps=f"{w.ulps:.3g}")


def _evidence(w: WrongGradient, claimed: str, numeric: str, otherwise: str) -> str:
    """The values at the worst element (``claimed`` and ``numeric`` name them), by how
    much they differ, and the hints, or ``otherwise`` when none fits."""
    shown = _shown(w)
    symbolic = "" if w.symbolic is None else _(", symbolic {value}").format(value=shown(w.symbolic))
    text = _("{claimed} {value}, {numeric} {numeric_value} ± {error}{symbolic} ({off}).").format(
        claimed=claimed,
        value=shown(w.backward),
        numeric=numeric,
        numeric_value=shown(w.numeric),
        error=f"{w.numeric_error:.1g}",
        symbolic=symbolic,
        off=_off_by(w),
    )
    if w.hints:
        otherwise = _("Hint: {hints}.").format(hints=_("; ").join(w.hints))
    return then(text, otherwise)


def describe_wrong(layer: str, w: WrongGradient) -> str:
    """The wrong-gradient sentence: where, by how much, and the hints."""
    redo = _("Re-derive d{array} from forward, one operation at a time (symgrad derive).")
    where = ngettext(
        "{layer}: {gradient} is wrong at {wrong} of {size} element; worst at {at}: ",
        "{layer}: {gradient} is wrong at {wrong} of {size} elements; worst at {at}: ",
        w.size,
    ).format(layer=layer, gradient=w.name, wrong=w.wrong, size=w.size, at=_at(w))
    return where + _evidence(w, _("backward"), _("numeric"), redo.format(array=w.array))


# ---------------------------------------------------------------- activations: fn, grad, grad2
# (symgrad.checking.activation: numpy-ml's convention, each method named as the user wrote it)


def _raised(error: BaseException) -> str:
    """``ValueError: the message`` (the message left out when there is none)."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def method_raised(owner: str, method: str, error: BaseException, shape: tuple[int, ...]) -> Finding:
    return Finding(
        "method-raised",
        _(
            "{owner}.{method} raised {error} on an input of shape {shape}. Fix {method} so "
            "that it runs on any array (an activation is applied element by element, "
            "whatever the shape)."
        ).format(owner=owner, method=method, error=_raised(error), shape=_shape(shape)),
        subject=f"{owner}.{method}",
    )


def method_result_unusable(owner: str, method: str, what: str, fix: str) -> Finding:
    """``what`` the method returned, and ``fix``: what it should return instead."""
    return Finding(
        "method-result-unusable",
        _("{owner}.{method} returned {what}: {fix}.").format(
            owner=owner, method=method, what=what, fix=fix
        ),
        subject=f"{owner}.{method}",
    )


def method_random(owner: str, method: str, difference: float) -> Finding:
    return Finding(
        "method-random",
        _(
            "{owner}.{method} is not a function of its input: two calls on the same array "
            "gave results that differ by up to {difference}. An activation and its "
            "derivatives draw no random numbers and keep no state between calls."
        ).format(owner=owner, method=method, difference=f"{difference:.3g}"),
        subject=f"{owner}.{method}",
    )


def inherited_hint(derivative: str, function: str, symbolic_agrees: bool | None) -> str:
    """The hint for a derivative checked against a ``function`` that is itself wrong:
    whether it agrees with SymPy's derivative of the formula (None: no formula known)."""
    if symbolic_agrees:
        hint = _(
            "{derivative} equals SymPy's derivative of the formula, so only {function} is "
            "wrong: fix {function} and {derivative} will agree with it"
        )
    elif symbolic_agrees is False:
        hint = _(
            "{derivative} differs from SymPy's derivative of the formula as well: it is "
            "wrong on its own, and so is {function} (above)"
        )
    else:
        hint = _(
            "{function}, which {derivative} is checked against, is wrong too (above): part "
            "of this may be {function}'s error; fix {function} first"
        )
    return hint.format(derivative=derivative, function=function)


def wrong_derivative(
    owner: str, derivative: str, of: str, w: WrongGradient, at_value: float
) -> Finding:
    """``owner.derivative`` disagrees with the numeric derivative of ``owner.of``; ``w`` is
    the evidence (its hints already worded for ``derivative``), ``at_value`` the input
    at its worst element."""
    redo = _("Re-derive {derivative} from {function}, one operation at a time.")
    where = ngettext(
        "{owner}.{derivative} is not the derivative of {owner}.{function}: wrong at {wrong} "
        "of {size} element; worst at {at} = {value}: ",
        "{owner}.{derivative} is not the derivative of {owner}.{function}: wrong at {wrong} "
        "of {size} elements; worst at {at} = {value}: ",
        w.size,
    ).format(
        owner=owner,
        derivative=derivative,
        function=of,
        wrong=w.wrong,
        size=w.size,
        at=_at(w),
        value=f"{at_value:.6g}",
    )
    text = where + _evidence(
        w,
        _("{derivative} gives").format(derivative=derivative),
        _("the numeric derivative of {function} is").format(function=of),
        redo.format(derivative=derivative, function=of),
    )
    return Finding("wrong-gradient", text, subject=f"{owner}.{derivative}")


def hvp_unchecked(owner: str, names: Sequence[str]) -> Finding:
    """``owner.hvp(x, v)`` cannot be checked: forward differentiates several inputs."""
    return Finding(
        "hvp-unchecked",
        _(
            "{owner}.hvp(x, v) takes one x, but {owner}.forward differentiates {names}: the "
            "hvp is not checked. Check it on a layer of one input, or give the others as "
            "labels."
        ).format(owner=owner, names=listed(names)),
        severity="warning",
        subject=f"{owner}.hvp",
    )


# ---------------------------------------------------------------- contained user code

_ADVICE = {
    "exit": N_(
        "A layer must not end the program: raise an exception instead, and keep a "
        "script's own code under `if __name__ == '__main__':`."
    ),
    "interrupt": N_(
        "Only Ctrl-C at the terminal stops symgrad; raise an ordinary exception instead."
    ),
    "timeout": N_("Pass --timeout SECONDS to allow longer, or look for a loop that never ends."),
    "raised": N_("Fix it so that it runs."),
}


def user_code_failed(failure: UserCodeFailed) -> Finding:
    """The user's code called sys.exit, raised KeyboardInterrupt (or an exception where no
    finer finding applies), or ran past the time limit: the check stopped there."""
    did = _("{where} {what}.").format(where=failure.where, what=failure.what)
    return Finding(
        f"user-code-{failure.kind}",
        then(did, _(_ADVICE[failure.kind])),
        subject=failure.where,
    )


def raised_during_check(where: str, error: BaseException) -> Finding:
    """The user's code raised while the check perturbed its inputs or probed it again."""
    return Finding(
        "user-code-raised",
        _(
            "{where} raised {error} during the check, on inputs within a small step of the "
            "ones given. It must run on any inputs of these shapes."
        ).format(where=where, error=_raised(error)),
        subject=where,
    )
