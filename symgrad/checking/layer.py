"""``check_layer``: check any object with the note's interface, as it is.

Beyond the numbers it checks what a hand-written backward gets wrong in practice: the
forward's return value, the number and shapes of the gradients, arrays written in place,
state kept between calls, and whether ``dout`` is used at all. Then every differentiated
input and parameter is compared with numeric differences, element by element, perturbing
many elements per forward where the Jacobian's structure allows
(symgrad.numeric.structure).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from symgrad.checking import findings as say
from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard, UserCodeFailed
from symgrad.checking.gradients import Verified, plan, project, verify
from symgrad.checking.objects import Subject
from symgrad.checking.progress import Progress
from symgrad.checking.report import Finding, LayerCheck, Perturbation, Projection, WrongGradient
from symgrad.comparison.tolerance import element_bounds, element_scale, exact_tolerance, looseness
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.inputs import DTYPES, parse_dtype
from symgrad.layers.spec import check_rng
from symgrad.numeric.methods import Method, get_method
from symgrad.numeric.steps import describe_step
from symgrad.numeric.structure import Grouping, grouped_gradient
from symgrad.numeric.threads import one_blas_thread
from symgrad.reports import Comparison, GradientCheck


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _copy(value: Any) -> Any:
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def choose_dtype(dtype: str | np.dtype | None, inputs: Sequence[Any], constants) -> np.dtype:
    """The dtype asked for, else the differentiated inputs' (float64 for integers)."""
    if dtype is not None:
        return parse_dtype(dtype)
    floats = [
        np.asarray(x).dtype
        for k, x in enumerate(inputs)
        if k not in constants and np.issubdtype(np.asarray(x).dtype, np.floating)
    ]
    chosen = np.result_type(*floats) if floats else np.dtype(np.float64)
    return chosen if str(chosen) in DTYPES else np.dtype(np.float64)


def axis_meanings(arrays: dict[str, np.ndarray]) -> dict[int, str]:
    """Each axis size → what it is, for hints such as 1/N: the first array's first axis is
    the batch when it has two or more."""
    meanings: dict[int, str] = {}
    for position, (name, array) in enumerate(arrays.items()):
        for axis, size in enumerate(np.shape(array)):
            if position == 0 and axis == 0 and np.ndim(array) >= 2:
                meanings.setdefault(size, _("the batch size N"))
            meanings.setdefault(
                size, _("the size of {name}'s axis {axis}").format(name=name, axis=axis)
            )
    return meanings


class _Run:
    """One check in progress: the subject, what was found, and the numbers gathered."""

    def __init__(self, subject: Subject, method: Method, rng, step, tracker: Progress) -> None:
        self.subject = subject
        self.method = method
        self.rng = rng
        self.step = step
        self.tracker = tracker
        self.findings: list[Finding] = []
        self.rebound: set[str] = set()
        self.layer = subject.layer
        self.name = subject.name

    # ------------------------------------------------------------ behaviour

    def first_forward(self) -> tuple[Any, list, set[str]]:
        """forward on copies; finds writes into the inputs and the attributes it rebinds."""
        subject = self.subject
        installed = {p: getattr(self.layer, p) for p in subject.candidates}
        subject.copy_inputs = True
        out, passed = subject.call_forward()
        for k, (given, kept) in enumerate(zip(passed, subject.inputs, strict=True)):
            if not _same(given, kept):
                what = _("its input {name}").format(name=subject.names[k])
                self.findings.append(
                    say.changed_argument(
                        self.name, "forward", what, kept, given, "forward-changed-input"
                    )
                )
                subject.copy_inputs = True
                break
        else:
            subject.copy_inputs = False
        rebound = {p for p, value in installed.items() if getattr(self.layer, p) is not value}
        self.rebound = rebound
        return out, passed, rebound

    def output_ok(self, out: Any) -> np.ndarray | None:
        """The output as an array, or None with a finding for why it cannot be used."""
        if out is None:
            self.findings.append(say.forward_returned_none(self.name))
            return None
        if isinstance(out, tuple | list | dict | str):
            self.findings.append(say.forward_not_array(self.name, out))
            return None
        try:
            array = np.asarray(out)
        except Exception:
            array = None
        if array is None or array.dtype == object:
            self.findings.append(say.forward_not_array(self.name, out))
            return None
        if not np.issubdtype(array.dtype, np.inexact):
            self.findings.append(say.forward_not_float(self.name, array.dtype))
            return None
        if np.iscomplexobj(array) and not any(map(np.iscomplexobj, self.subject.inputs)):
            self.findings.append(say.forward_complex(self.name))
            return None
        if not np.all(np.isfinite(array)):
            self.findings.append(say.forward_not_finite(self.name, array))
            return None
        return array

    def call_backward(self, dout: Any) -> tuple[Any, Any]:
        """backward on a copy of dout; returns its return value and the copy it got."""
        given = _copy(dout)
        return self.subject.call_backward(given), given

    def backward_only(self) -> None:
        """Forward returned nothing usable: still see what backward does to its dout, with
        a dout shaped like the first differentiated input (right for the note's ReLU and
        any layer whose output has its input's shape)."""
        subject = self.subject
        if not subject.differentiated:
            return
        like = subject.inputs[subject.differentiated[0]]
        for sign in (1.0, -1.0):
            dout = self.rng.standard_normal(like.shape).astype(subject.dtype)
            if self.backward_writes(sign, dout) is not False:
                return

    def backward_writes(self, sign: float, dout: Any) -> bool | None:
        """Forward at sign × the inputs, then backward on a copy of dout: True (with a
        finding) when backward wrote into it, None when the layer raised."""
        subject = self.subject
        try:
            with np.errstate(all="ignore"):
                subject.call_forward({k: sign * subject.inputs[k] for k in subject.differentiated})
                _returned, given = self.call_backward(dout)
        except Exception:
            return None
        if _same(given, dout):
            return False
        self.findings.append(
            say.changed_argument(
                self.name, "backward", _("its dout argument"), dout, given, "dout-modified"
            )
        )
        return True

    def main_backward(self, out: np.ndarray, dout: Any, passed: list) -> Any | None:
        """The backward whose gradients are checked, and what it wrote into."""
        subject = self.subject
        # Parameters (or candidates for it), not the caches forward replaces every call.
        installed = {
            p: np.array(slot.get(self.layer), copy=True)
            for p, slot in subject.slots.items()
            if p not in self.rebound and p not in subject.names
        }
        try:
            returned, given = self.call_backward(dout)
        except Exception as error:
            self.findings.append(say.backward_raised(self.name, error, np.shape(out)))
            return None
        if not _same(given, dout):
            self.findings.append(
                say.changed_argument(
                    self.name, "backward", _("its dout argument"), dout, given, "dout-modified"
                )
            )
        for k, (held, original) in enumerate(zip(passed, subject.inputs, strict=True)):
            if not _same(held, original) and not any(
                f.kind == "forward-changed-input" for f in self.findings
            ):
                what = _("the input {name} it kept from forward").format(name=subject.names[k])
                self.findings.append(
                    say.changed_argument(
                        self.name, "backward", what, original, held, "input-modified"
                    )
                )
        for p, before in installed.items():
            now = subject.slots[p].get(self.layer)
            if isinstance(now, np.ndarray) and now.shape == before.shape and not _same(now, before):
                self.findings.append(
                    say.changed_argument(
                        self.name,
                        "backward",
                        _("the parameter {name}").format(name=p),
                        before,
                        now,
                        "parameter-modified",
                    )
                )
        return returned

    def collect(self, returned: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The gradients by array name; findings for a missing or miscounted return."""
        subject = self.subject
        names = subject.differentiated_names
        if returned is None and names:
            self.findings.append(say.backward_returned_none(self.name, names))
            inputs: dict[str, Any] = {}
        else:
            inputs, count = subject.gradients(returned)
            if count is not None:
                self.findings.append(say.gradient_count(self.name, count, names))
        params = {}
        for p, value in subject.parameter_gradients().items():
            if value is None:
                self.findings.append(say.gradient_missing(self.name, p))
            else:
                params[p] = value
        return inputs, params

    def shaped(self, gradients: dict[str, Any]) -> dict[str, np.ndarray]:
        """The gradients of the right shape (as arrays); a finding for each other one."""
        arrays = self.arrays()
        good = {}
        for name, value in gradients.items():
            unusable = say.unusable_gradient(self.name, f"d{name}", value)
            if unusable is not None:
                self.findings.append(unusable)
                continue
            value = np.asarray(value)
            want = np.shape(arrays[name])
            if value.shape != want:
                self.findings.append(
                    say.gradient_shape(self.name, f"d{name}", name, value.shape, want)
                )
            else:
                good[name] = np.array(value, copy=True)  # a later call may reuse its memory
        return good

    def arrays(self) -> dict[str, np.ndarray]:
        subject = self.subject
        arrays = {subject.names[k]: subject.inputs[k] for k in subject.differentiated}
        arrays.update(subject.values)
        return arrays

    def deterministic(self, dout: Any, first: dict[str, np.ndarray]) -> bool:
        """A second forward and backward on the same arrays give the same gradients. The
        forward runs again first: a backward that reuses a cached array in place (the
        sequel's TimeSoftmaxWithLoss subtracts 1 from its saved softmax) is right once per
        forward, as training calls it, and must not be blamed for a second call."""
        try:
            self.subject.call_forward()
            returned, _given = self.call_backward(dout)
        except Exception:
            return True  # a backward that frees its state may refuse a second call: fine
        second = self.gathered(returned)
        for name, value in first.items():
            other = second.get(name)
            if other is None or np.shape(other) != np.shape(value):
                continue
            gap = float(np.max(np.abs(np.asarray(other) - value), initial=0.0))
            allowed = exact_tolerance(self.subject.dtype, float(np.max(np.abs(value), initial=0)))
            if not gap <= allowed:
                stored = name in self.subject.params
                self.findings.append(say.not_deterministic(self.name, f"d{name}", gap, stored))
                return False
        return True

    def gathered(self, returned: Any) -> dict[str, np.ndarray]:
        inputs, _count = self.subject.gradients(returned)
        inputs.update(
            {p: v for p, v in self.subject.parameter_gradients().items() if v is not None}
        )
        return {n: np.array(v, dtype=np.float64, copy=True) for n, v in inputs.items()}

    def probe_dout(self, dout: Any, first: dict[str, np.ndarray]) -> bool:
        """Zero dout → zero gradients; doubled dout → doubled gradients, each probe after a
        forward of its own (a backward may change what its forward saved). Returns
        whether backward ignores dout."""
        results = {}
        for factor in (2.0, 0.0):
            scaled = factor * dout
            if isinstance(scaled, np.ndarray):
                scaled = scaled.astype(self.subject.dtype, copy=False)
            try:
                self.subject.call_forward()
                returned = self.subject.call_backward(scaled)  # scaled is its own copy
            except Exception:
                return False
            results[factor] = self.gathered(returned)
        ignored, misused = [], []
        for name, value in first.items():
            largest = float(np.max(np.abs(value), initial=0.0))
            allowed = exact_tolerance(self.subject.dtype, largest)
            zero, double = results[0.0].get(name), results[2.0].get(name)
            if (
                zero is not None
                and zero.shape == value.shape
                and not np.max(np.abs(zero), initial=0.0) <= allowed
            ):
                ignored.append(f"d{name}")
                continue
            if (
                double is not None
                and double.shape == value.shape
                and not np.max(np.abs(double - 2 * value), initial=0.0) <= 2 * allowed
            ):
                misused.append(f"d{name}")
        if ignored:
            self.findings.append(say.dout_ignored(self.name, ignored))
        elif misused:
            self.findings.append(say.dout_misused(self.name, misused))
        return bool(ignored)

    def negated_write(self, dout: Any) -> None:
        """Run forward and backward once more at the negated inputs: a backward that
        writes into dout only where the input is ≤ 0 (the note's ReLU) shows it there
        even when every drawn input happened to be positive."""
        if any(f.kind == "dout-modified" for f in self.findings) or not isinstance(
            dout, np.ndarray
        ):
            return
        self.backward_writes(-1.0, dout)

    # ------------------------------------------------------------ numbers

    def function(self, name: str):
        subject = self.subject
        if name in subject.values:
            return subject.parameter_function(name)
        return subject.input_function(subject.names.index(name))

    def value(self, name: str) -> np.ndarray:
        return self.arrays()[name]

    def plan(self, name: str, f, x: np.ndarray, out: np.ndarray) -> tuple[Grouping, str]:
        return plan(self.subject, name, f, x, out.shape, self.rng, self.tracker)

    def numeric(
        self,
        name: str,
        backward: np.ndarray,
        out: np.ndarray,
        dout: Any,
        symbolic: np.ndarray | None,
        fast: bool,
        truth: np.ndarray | None = None,
    ) -> tuple[Verified | None, Projection | None]:
        """The full check of one array's gradient (or, fast, a projection first)."""
        x = self.value(name)
        f = self.function(name)
        self.tracker.describe(_("checking d{name}").format(name=name))
        projection = None
        self.subject.install()  # the parameters as checked, whatever backward did to them
        try:
            if fast:
                projected = project(f"d{name}", backward, f, x, dout, self.method, self.rng)
                projection = projected.projection
                self.subject.install()
                if projected.settled:
                    return None, projection
                projection = replace(projection, drilled=True)
            grouping, source = self.plan(name, f, x, out)
            with np.errstate(all="ignore"):
                verified = verify(
                    f"d{name}",
                    name,
                    backward,
                    f,
                    x,
                    dout,
                    grouping,
                    self.method,
                    self.step,
                    symbolic,
                    source,
                    truth,
                )
        finally:
            self.subject.install()
        return verified, projection

    def right_for_ones(self, name: str, backward: np.ndarray, out: np.ndarray) -> bool:
        """Does backward equal the numeric gradient for dout = 1 (all ones)?"""
        x = self.value(name)
        f = self.function(name)
        ones = np.ones(out.shape) if out.ndim else 1.0
        try:
            grouping, _probed = self.plan(name, f, x, out)
            with np.errstate(all="ignore"):
                numeric = grouped_gradient(f, x, ones, self.method, self.step, grouping)
        finally:
            self.subject.install()
        no_kink = np.zeros(np.shape(x), dtype=bool)
        allowed = element_bounds(numeric, element_scale(numeric, backward), no_kink)
        return bool(np.all(np.abs(backward - numeric.values) <= allowed["backward_vs_numeric"]))


def check_layer(
    layer: Any,
    *inputs: Any,
    constants: Sequence[int] = (),
    seed: int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    symbolic: Any = None,
    params: Sequence[str] | None = None,
    fast: bool = False,
    step: float | None = None,
    progress: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    keywords: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> LayerCheck:
    """Check a layer object's backward against its forward, as it is.

    The layer needs only the note's interface: ``forward(*inputs)`` returns the output,
    ``backward(dout)`` returns one gradient per differentiated input (a tuple when there
    are several) and stores parameter gradients as ``d<name>`` (``dW`` for ``W``).

    With a random upstream gradient u (``dout``; 1 for a scalar output) every gradient
    the backward returns is compared, element by element, with the numeric derivative

        ∂⟨u, forward(x)⟩/∂x[e] ≈ Σ wₖ·(⟨u, f(x + aₖh·e)⟩ − ⟨u, f(x + bₖh·e)⟩)/h

    (central differences by default), held to the method's own error estimate
    (truncation measured at 2h, modelled rounding), never to a user-tuned atol/rtol.

    Args:
        layer: the object (it is called, and its attributes are swapped for copies while
            the check runs; its own arrays are left as they were).
        *inputs: forward's arguments, in order.
        constants: positions of inputs that are not differentiated (labels).
        seed: seeds dout, the structure probes and fast mode's directions.
        dtype: ``float64`` or ``float32``; by default the inputs' own.
        method: a numeric method (``central``, ``five-point``, ``richardson``, …).
        symbolic: a SymPy forward for a third column (see :mod:`symgrad.checking.symbolic`);
            by default the class's ``symbolic`` attribute or, for a catalog class, the
            catalog's; False for none.
        params: the parameter attributes; by default the array attributes ``X`` for which
            backward stores a ``dX``.
        fast: check each gradient by one random projection first, and element by element
            only where that disagrees.
        step: a fixed step instead of the automatic one.
        progress: draw a progress bar if the check runs past a second (default: when
            stderr is a terminal).
        timeout: seconds one call of forward or backward may run before it is stopped
            (a finding); None for no limit. Only in the main thread (see
            :mod:`symgrad.checking.containment`).
        keywords: keyword arguments for every forward call (``train_flg=True``).
        strict: count as errors what is otherwise a warning: a backward that is the
            exact derivative of a formula the forward smooths slightly, and a loss that
            ignores dout.

    Returns:
        A :class:`~symgrad.checking.report.LayerCheck`: ``.ok``, ``.problems`` (sentences
        naming the fix), and the core's comparison table.
    """
    chosen = choose_dtype(dtype, inputs, set(constants))
    subject = Subject(
        layer, inputs, constants, chosen, params, guard=Guard(timeout), keywords=keywords
    )
    method = get_method(method or "central")
    return run_check(subject, method, seed, step, symbolic, fast, progress, strict=strict)


def run_check(
    subject: Subject,
    method: Method,
    seed: int,
    step: float | None = None,
    symbolic: Any = None,
    fast: bool = False,
    progress: bool | None = None,
    exact: bool = False,
    strict: bool = False,
) -> LayerCheck:
    """The one checking procedure behind ``check_layer`` and ``compare``: behaviour
    findings, then every gradient verified element by element (grouped perturbation,
    recheck one element per forward, second opinion) against the numeric derivative,
    with SymPy's gradient as a third column when a symbolic forward is known (at 50
    digits as well when ``exact``). The user's code runs under ``subject.guard``: what
    it does (sys.exit, an exception, a time-out) becomes a finding."""
    start = time.perf_counter()
    rng = check_rng(seed)
    guard = subject.guard
    with (
        guard,
        subject.borrowed(),
        Progress(_("checking {layer}").format(layer=subject.name), progress) as tracker,
        one_blas_thread(),
    ):
        run = _Run(subject, method, rng, step, tracker)
        try:
            report = _check(run, seed, symbolic, fast, exact)
            if strict:
                report = _strictly(report)
        except UserCodeFailed as failure:  # sys.exit, KeyboardInterrupt, a time-out
            run.findings.append(say.user_code_failed(failure))
            report = LayerCheck(layer=subject.name, comparison=None, findings=tuple(run.findings))
        except Exception as error:
            where = guard.by_user(error)
            if where is None:
                raise
            run.findings.append(say.raised_during_check(where, error))
            report = LayerCheck(layer=subject.name, comparison=None, findings=tuple(run.findings))
    return replace(report, seconds=time.perf_counter() - start)


def _check(run: _Run, seed: int, symbolic_spec: Any, fast: bool, exact: bool) -> LayerCheck:
    subject = run.subject

    def done(comparison=None, wrong=(), perturbations=(), projections=()) -> LayerCheck:
        return LayerCheck(
            layer=subject.name,
            comparison=comparison,
            findings=tuple(run.findings),
            wrong=tuple(wrong),
            perturbations=tuple(perturbations),
            projections=tuple(projections),
            fast=fast,
        )

    try:
        with np.errstate(all="ignore"):
            raw, passed, rebound = run.first_forward()
    except Exception as error:
        run.findings.append(say.forward_raised(subject.name, error))
        return done()
    several = subject.several_outputs(raw)
    if several:  # from here on forward returns the outputs joined, backward gets parts
        raw, passed, rebound = run.first_forward()
    out = run.output_ok(raw)
    if out is None:
        if raw is None:
            run.backward_only()
        return done()
    narrowed = _narrowed(subject, out)
    if narrowed:
        raw, passed, rebound = run.first_forward()
        out = run.output_ok(raw)
        if out is None:
            return done()
    out, held = steady(subject, out, run.findings)
    if out is None:
        return done()
    dout: Any = subject.upstream(out.shape, run.rng)
    returned = run.main_backward(out, dout, passed)
    if returned is None and any(f.kind == "backward-raised" for f in run.findings):
        return done()
    for name in subject.settle_parameters(rebound):
        run.findings.append(say.no_gradient_stored(subject.name, name))
    inputs, params = run.collect(returned)
    claimed = run.shaped({**inputs, **params})
    first = {n: np.array(v, dtype=np.float64, copy=True) for n, v in claimed.items()}
    ignores_dout = False
    # A backward that wrote into what forward saved (or into a parameter) changes its next
    # result by that alone: the repeat and dout probes would only echo that finding.
    # A gradient that is no array of numbers cannot be compared with a repeat either.
    kept = {"input-modified", "parameter-modified", "forward-changed-input", "gradient-not-usable"}
    if not any(f.kind in kept for f in run.findings) and run.deterministic(dout, first):
        ignores_dout = run.probe_dout(dout, first)
    run.negated_write(dout)
    with np.errstate(all="ignore"):
        subject.call_forward()  # the state backward saw, for the symbolic values below
    from symgrad.checking import symbolic as formulas

    joined = None
    if several:
        shapes = " and ".join("×".join(map(str, o)) or _("scalar") for o in subject.outputs)
        joined = _(
            "{layer}.forward returns {count} arrays ({shapes}): checked as one output, each "
            "with its own random upstream gradient, given to backward in order"
        ).format(layer=subject.name, count=len(subject.outputs), shapes=shapes)
    coarse = _narrow_gradients(subject, claimed)
    notes: list[str] = [n for n in (joined, narrowed, coarse, held) if n]
    form = formulas.resolve(symbolic_spec, subject.layer)
    recognised = form is None and symbolic_spec is None
    if recognised:
        form = formulas.recognise(subject, out)
    symbolic, why = _symbolic(form if form is not None else False, subject, out, dout)
    if recognised and form is not None:
        if symbolic is None:  # its formula does not take these shapes: not what it is
            form, why = None, None
        else:
            notes.append(
                _("recognised as {formula}: its SymPy forward is the symbolic column").format(
                    formula=form.name
                )
            )
    # How far the user's forward lies from the formula: a smoothing constant shows here.
    deviation = None if symbolic is None else formulas.deviation(form, subject, out)
    if out.ndim == 0:  # a loss: ignoring dout is harmless while it is computed last
        run.findings = [
            say.loss_ignores_dout(subject.name, f.subject or "the gradient")
            if f.kind == "dout-ignored"
            else f
            for f in run.findings
        ]
    truth = None
    if exact and symbolic is not None:
        from symgrad.checking.symbolic import gradients
        from symgrad.symbolic.precision import TRUTH_DIGITS

        truth, _error = gradients(form, subject, out, dout, TRUTH_DIGITS)
    checks: list[GradientCheck] = []
    wrong: list[WrongGradient] = []
    perturbations: list[Perturbation] = []
    projections: list[Projection] = []
    inputs_by_name = run.arrays()
    waived: dict[str, str] = {}
    for name, backward in claimed.items():
        backward = np.asarray(backward)
        verified, projection = run.numeric(
            name,
            backward,
            out,
            dout,
            None if symbolic is None else symbolic.get(f"d{name}"),
            fast,
            None if truth is None else truth.get(f"d{name}"),
        )
        if projection is not None:
            projections.append(projection)
        if verified is None:
            continue
        if recognised and form is not None and _formula_misfits(verified.check):
            # The backward agrees with the forward's numeric derivative and the recognised
            # formula with neither: the forward is not exactly the formula (batch norm with
            # another ε), so the formula cannot judge this gradient.
            verified, _projection = run.numeric(name, backward, out, dout, None, fast, None)
            notes.append(
                _(
                    "{gradient}: checked against the numeric derivative alone: the forward "
                    "differs slightly from {formula}'s (by a relative {deviation}; another "
                    "constant, such as ε?)"
                ).format(
                    gradient=verified.check.name, formula=form.name, deviation=f"{deviation:.1g}"
                )
            )
        checks.append(verified.check)
        perturbations.append(verified.perturbation)
        if not verified.check.ok and formulas.smoothed(verified.check, deviation):
            waived[verified.check.name] = _("the exact derivative of {formula}").format(
                formula=form.name
            )
            run.findings.append(
                say.smoothed_forward(subject.name, verified.check.name, form.name, deviation)
            )
        elif not verified.check.ok:
            ones = ignores_dout and out.ndim > 0 and run.right_for_ones(name, backward, out)
            evidence, finding = say.wrong_gradient(
                subject.name,
                name,
                verified,
                subject.dtype,
                axis_meanings({**inputs_by_name, "out": out}),
                inputs_by_name,
                right_for_ones=ones,
                dout=dout if isinstance(dout, np.ndarray) else None,
            )
            wrong.append(evidence)
            run.findings.append(finding)
    notes += [why] if why else []
    if subject.dtype != np.float64:
        factors = [
            c.tolerance["backward_vs_numeric"] / c.model.float64_tolerance
            for c in checks
            if c.model and c.model.float64_tolerance
        ]
        if factors:
            notes.append(looseness(subject.dtype, run.method, min(factors), max(factors)))
    comparison = None
    if checks:
        shapes = {name: np.shape(value) for name, value in inputs_by_name.items()}
        # Shown beside each element only where an element's gradient is made of the same
        # element of each: every array the output's shape, no parameters (not affine's W).
        # A constant input of the output's shape (dropout's mask) explains its zeros.
        constants = {subject.names[k]: subject.inputs[k] for k in sorted(subject.constants)}
        given = {**inputs_by_name, **constants, "dout": dout}
        aligned = out.ndim and not subject.values
        aligned = aligned and all(np.shape(v) == out.shape for v in given.values())
        comparison = Comparison(
            given={name: np.asarray(value) for name, value in given.items()} if aligned else {},
            layer=subject.name,
            shapes={**shapes, "out": out.shape},
            dtype=subject.dtype.name,
            seed=seed,
            step=describe_step(run.method, subject.dtype, run.step),
            gradients=tuple(checks),
            method=run.method.name,
            notes=tuple(notes),
            waived=waived,
        )
    if not checks and not projections and not run.findings:
        run.findings.append(say.nothing_checked(subject.name))
    return done(comparison, wrong, perturbations, projections)


def _formula_misfits(check: GradientCheck) -> bool:
    """The backward agrees with numeric differences, and the symbolic column with neither."""
    if check.symbolic is None or not check.worst:
        return False
    worst = check.worst
    return worst["backward_vs_numeric"].ok and not (
        worst["backward_vs_symbolic"].ok or worst["symbolic_vs_numeric"].ok
    )


def _narrowed(subject: Subject, out: np.ndarray) -> str | None:
    """A forward that computes in a narrower float than it is given (the sequel's time
    layers build float32 arrays inside) rounds at that precision: its numeric derivative
    is held to that dtype's ε, or rounding noise would read as wrong gradients. Recasts
    the subject when so, and says why."""
    if not (np.issubdtype(out.dtype, np.floating) and out.dtype.itemsize < subject.dtype.itemsize):
        return None
    given = subject.dtype.name
    subject.recast(out.dtype)
    return _(
        "{layer}.forward returns {dtype} for {given} inputs: it computes in {dtype}, so the "
        "check runs at {dtype}'s precision"
    ).format(layer=subject.name, dtype=out.dtype.name, given=given)


def _narrow_gradients(subject: Subject, claimed: dict[str, Any]) -> str | None:
    """Gradients backward returns in a narrower float than the check's (the sequel's
    TimeSigmoidWithLoss builds dxs in float32) carry that float's rounding, and are held
    to it (symgrad.comparison.tolerance.backward_precision); said, since it is a choice."""
    narrow = {
        n: v.dtype
        for n, v in claimed.items()
        if isinstance(v, np.ndarray)
        and np.issubdtype(v.dtype, np.floating)
        and v.dtype.itemsize < subject.dtype.itemsize
    }
    if not narrow:
        return None
    return _(
        "{layer}.backward returns {names} in {dtype} for {given} inputs: held to {dtype}'s rounding"
    ).format(
        layer=subject.name,
        names=", ".join(f"d{n}" for n in narrow),
        dtype=", ".join(sorted({d.name for d in narrow.values()})),
        given=subject.dtype.name,
    )


def steady(
    subject: Subject, out: np.ndarray, findings: list[Finding]
) -> tuple[np.ndarray | None, str | None]:
    """forward as a function of its arguments: when a second call on the same arrays
    gives another output, the layer is random (dropout's new mask each call) or keeps
    state (a stateful RNN's carried-over hidden state). Then every forward is held to the
    same random numbers, and if need be the same state (Subject.hold_fixed), and the check
    runs on that; returns the output to check and a note saying so (None, and a finding,
    when even that does not make forward repeat itself). A network's check holds each
    of its layers the same way."""

    def twice() -> tuple[Any, Any]:
        with np.errstate(all="ignore"):
            return subject.call_forward()[0], subject.call_forward()[0]

    with np.errstate(all="ignore"):
        again = subject.call_forward()[0]
    if _same(again, out):
        return out, None
    held = {
        False: _(
            "{layer}.forward is random (a new mask or noise each call): checked with its "
            "random numbers held fixed, the same in every forward"
        ),
        True: _(
            "{layer}.forward keeps state between calls: checked from the same state (and "
            "random numbers) in every forward"
        ),
    }
    for state, what in held.items():
        subject.hold_fixed(state=state)
        first, second = twice()
        if _same(first, second):
            return np.asarray(first), what.format(layer=subject.name)
    findings.append(say.forward_not_repeatable(subject.name))
    return None, None


LENIENT = ("smoothed-forward", "loss-ignores-dout")  # warnings --strict makes errors


def _strictly(report: LayerCheck) -> LayerCheck:
    """The report with the lenient warnings as errors, and nothing waived."""
    findings = tuple(
        replace(f, severity="error") if f.kind in LENIENT else f for f in report.findings
    )
    comparison = report.comparison
    if comparison is not None and comparison.waived:
        comparison = replace(comparison, waived={})
    return replace(report, findings=findings, comparison=comparison)


def _symbolic(spec: Any, subject: Subject, out: np.ndarray, dout: Any):
    """SymPy's gradients, or (None, why not); never fails the check."""
    from symgrad.checking import symbolic

    try:
        return symbolic.gradients(spec, subject, out, dout)
    except SymgradError:
        raise
    except Exception as error:  # a SymPy forward that does not fit: say so, check the rest
        return (
            None,
            f"no symbolic column: the SymPy forward failed ({type(error).__name__}: {error})",
        )


__all__ = ["check_layer"]
