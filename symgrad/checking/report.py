"""What checking a user's layer or network returns: findings in words, and the numbers.

Nothing here computes or prints; :mod:`symgrad.render.checking` draws these. A report
renders as rich tables (``rich.print(report)``) and as plain text (``str(report)``),
which is also the message :func:`symgrad.testing.assert_backward_ok` fails with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from symgrad.i18n import _, ngettext
from symgrad.reports import Printed

if TYPE_CHECKING:
    from symgrad.reports import Comparison, GradientCheck

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth knowing) about a layer, as a sentence that names the fix.

    Attributes:
        kind: a stable code, e.g. ``forward-returned-none``, ``dout-modified``,
            ``wrong-gradient`` (see :data:`symgrad.checking.findings.KINDS`).
        message: the sentence: what is wrong and how to fix it.
        severity: ``error`` fails the check; ``warning`` is reported and does not.
        subject: the gradient or layer it is about (``dW``, ``Relu1``), if any.
    """

    kind: str
    message: str
    severity: Severity = "error"
    subject: str | None = None


@dataclass(frozen=True)
class WrongGradient:
    """The evidence behind a ``wrong-gradient`` finding: its worst element and hints.

    Attributes:
        name: the gradient, ``dW``.
        array: what it is the gradient of, ``W``.
        index: the worst element (largest |backward − numeric|).
        backward, numeric, symbolic: the three values there (symbolic None when no
            SymPy forward was given).
        numeric_error: the numeric method's error estimate at that element.
        absolute, relative, ulps: |backward − numeric|, over the largest |numeric|
            (normwise, as the verdict), and in units in the last place of the dtype.
        wrong, size: elements outside the tolerance, out of all.
        hints: patterns that fit (a constant factor, a transpose, a flipped sign, …).
        layer: in a network's check, the layer whose gradient it is (``Affine1``).
    """

    name: str
    array: str
    index: tuple[int, ...]
    backward: float
    numeric: float
    numeric_error: float
    symbolic: float | None
    absolute: float
    relative: float
    ulps: float
    wrong: int
    size: int
    hints: tuple[str, ...] = ()
    layer: str = ""


@dataclass(frozen=True)
class Perturbation:
    """How one array's numeric gradient was obtained.

    Attributes:
        name: the array (``W``).
        structure: the grouping in words (``W: 784 groups (axis 1 ↔ out axis 1)``).
        source: where the grouping came from: ``catalog``, ``probed`` or ``none``.
        forwards: forward passes spent on this array (re-checks included).
        rechecked: elements re-derived one at a time to confirm a disagreement.
        fallback: the grouped values were contradicted and every element was
            re-derived one at a time (the structure guess was wrong).
        second_opinion: elements re-derived by Richardson extrapolation, and by the
            stencil at h, 2h and 4h for the order it shows, before a disagreement was
            reported.
    """

    name: str
    structure: str
    source: str
    forwards: int
    rechecked: int = 0
    fallback: bool = False
    second_opinion: int = 0


@dataclass(frozen=True)
class Projection:
    """``--fast``: one random projection ⟨v, backward(u)⟩ against the numeric directional
    derivative d/dt ⟨u, f(x + t·v)⟩ at t = 0."""

    name: str
    claimed: float  # ⟨v, backward⟩
    numeric: float
    tolerance: float
    drilled: bool = False  # disagreed, so the full element-wise check ran and decides

    @property
    def ok(self) -> bool:
        return abs(self.claimed - self.numeric) <= self.tolerance


@dataclass(frozen=True)
class LayerCheck(Printed):
    """The check of one layer object: behaviour findings plus the numeric comparison.

    Attributes:
        layer: the class name.
        comparison: the core's three-way table (:class:`~symgrad.reports.Comparison`),
            with only backward-vs-numeric where no SymPy forward was given; None when no
            numeric comparison could run (forward returned nothing, backward raised).
        findings: every finding, errors and warnings.
        wrong: the evidence for each wrong gradient.
        perturbations: how each array was perturbed.
        projections: ``fast`` mode's random projections.
        fast: whether the check ran in fast mode.
        seconds: wall time of the check.
    """

    layer: str
    comparison: Comparison | None
    findings: tuple[Finding, ...] = ()
    wrong: tuple[WrongGradient, ...] = ()
    perturbations: tuple[Perturbation, ...] = ()
    projections: tuple[Projection, ...] = ()
    fast: bool = False
    seconds: float = 0.0

    @property
    def problems(self) -> tuple[str, ...]:
        """The errors, in words: each names what is wrong and the fix."""
        return tuple(f.message for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "warning")

    @property
    def checked(self) -> tuple[str, ...]:
        """What was compared, in words: ``dW (12 elements)``, ``db (one projection)``."""
        full = [] if self.comparison is None else list(self.comparison.gradients)
        named = [
            ngettext(
                "{name} ({count} element)", "{name} ({count} elements)", g.backward.size
            ).format(name=g.name, count=g.backward.size)
            for g in full
        ]
        drilled = {g.name for g in full}
        named += [
            _("{name} (one projection)").format(name=p.name)
            for p in self.projections
            if p.name not in drilled
        ]
        return tuple(named)

    @property
    def ok(self) -> bool:
        """No problem found: every check passed and every gradient agrees."""
        numeric_ok = self.comparison is None or self.comparison.ok
        # A projection that disagreed was drilled into: the full check's verdict stands.
        projected = all(p.ok or p.drilled for p in self.projections)
        return not self.problems and numeric_ok and projected


@dataclass(frozen=True)
class ParameterCheck:
    """One parameter end to end: backprop's gradient against the numeric chain.

    ``max_abs`` and ``mean_abs`` are the book's gradient_check numbers (it prints the
    mean of |backprop − numerical|). The verdict holds every element to its own bound:
    ``index`` is the worst element by difference / bound, ``difference`` and
    ``tolerance`` its difference and bound, ``wrong`` how many elements disagree.
    """

    name: str  # W1
    layer: str  # Affine1
    shape: tuple[int, ...]
    max_abs: float
    mean_abs: float
    largest: float  # max |numeric|
    tolerance: float
    index: tuple[int, ...]  # worst element
    projection: Projection | None = None  # fast mode
    difference: float = 0.0
    ratio: float = 0.0
    wrong: int = 0

    @property
    def ok(self) -> bool:
        if self.projection is not None and not self.projection.drilled:
            return self.projection.ok
        return self.ratio <= 1

    @property
    def relative(self) -> float:
        return self.max_abs / self.largest if self.largest else 0.0


@dataclass(frozen=True)
class LocalCheck:
    """One layer of a network checked on its own: its backward against its forward's
    numeric derivative, both given the same upstream gradient."""

    layer: str  # Relu1
    position: int  # 1-based, in forward order
    gradients: tuple[GradientCheck, ...]
    projections: tuple[Projection, ...] = ()
    skipped: tuple[str, ...] = ()  # gradients not checked here, e.g. the first layer's dx
    # gradients accepted as the exact derivative of the formula their forward smooths
    waived: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        projected = all(p.ok or p.drilled for p in self.projections)
        return all(g.ok or g.name in self.waived for g in self.gradients) and projected


@dataclass(frozen=True)
class NetworkCheck(Printed):
    """A network checked end to end (every parameter) and layer by layer."""

    spec: str
    layers: tuple[str, ...]
    shapes: dict[str, tuple[int, ...]]
    dtype: str
    seed: int
    loss: float
    step: str  # the numeric method and step, in words
    parameters: tuple[ParameterCheck, ...]
    local: tuple[LocalCheck, ...]
    findings: tuple[Finding, ...] = ()
    wrong: tuple[WrongGradient, ...] = ()
    forwards: int = 0  # layer forwards the numeric side spent
    seconds: float = 0.0
    fast: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def broken(self) -> tuple[str, ...]:
        """Layers whose own backward disagrees with their forward."""
        return tuple(c.layer for c in self.local if not c.ok)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "error")

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and all(p.ok for p in self.parameters)
            and all(c.ok for c in self.local)
        )
