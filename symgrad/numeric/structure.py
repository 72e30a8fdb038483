"""The Jacobian's structure, and perturbing many elements at once where it allows.

A full numeric gradient perturbs every element of an array A and runs the forward each
time. Most layers touch few outputs per element: an element of Affine's W (IN×OUT)
changes only its own column of Y (N×OUT), an element of an elementwise layer only its
own output. Such structure is a set of **couplings** (p, q): input axis p and output
axis q have the same size, and changing A[e] changes only outputs O[o] with
o[q] = e[p], for every coupling at once.

Elements that differ only along coupled axes then have disjoint footprints in O, so
they can be perturbed together, one forward per group instead of one per element, and
each output difference attributed back to the one element whose footprint it lies in:

    ⟨dout, ΔO⟩ restricted to e's footprint = Σ over o with o[q] = e[p] of dout[o]·ΔO[o]

which is exactly the contraction a one-element perturbation would give, over the very
same output numbers. Affine's W needs IN groups instead of IN·OUT forwards, its X (N×IN)
IN groups instead of N·IN, and an elementwise layer one.

The couplings come from what symgrad knows about a catalog layer, or are guessed for an
unknown one by probing (:func:`probe_couplings`); a wrong guess can only ever produce a
numeric value that disagrees with the backward, and symgrad re-derives every value it
reports as wrong with one-element perturbations (symgrad.checking.gradients).

:class:`Grouping` plugs into :func:`symgrad.numeric.differences.perturbed` in place of
its ``elementwise`` flag, so every method (stencils, Richardson, complex step) and the
kink check run grouped without a line of their own changing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from symgrad.i18n import _, listed, ngettext
from symgrad.numeric.differences import (
    Combine,
    Combined,
    NumericGradient,
    numerical_gradient,
    rounding_scale,
)
from symgrad.numeric.methods import Method


@dataclass(frozen=True)
class Window:
    """A coupling through a window: input axis ``p`` and output axis ``q``, where A[e]
    changes only the outputs o whose window o[q]·stride + offset … + size − 1 holds e[p]
    (a convolution's or a pooling's rows; offset = −padding).

    Elements ``size`` apart along p share no window, so a pack takes every size-th one:
    ``size`` groups along the axis instead of one per element.
    """

    p: int
    q: int
    size: int
    stride: int = 1
    offset: int = 0

    def incidence(self, inputs: int, outputs: int) -> np.ndarray:
        """(inputs, outputs) of 0/1: 1 where output o's window holds input e."""
        e, o = np.arange(inputs)[:, None], np.arange(outputs)[None, :]
        start = o * self.stride + self.offset
        return ((e >= start) & (e < start + self.size)).astype(np.float64)


Couplings = tuple[tuple[int, int] | Window, ...]
# A pack: its index into x (plain, or index arrays), and None or its elements' coupled
# indices into the footprint sums.
Pack = tuple[tuple[Any, ...], tuple[np.ndarray, ...] | None]
Function = Callable[[np.ndarray], Any]

PROBES = 6  # random elements perturbed to test a guessed structure
SPARSE = 16  # a probe perturbs at most one element per SPARSE indices of every axis
# Outputs of this many packs are combined at once (NumPy's per-call overhead, paid once per
# batch instead of once per pack), within a few megabytes of stacked outputs.
CHUNK_PACKS = 64
CHUNK_BYTES = 2**21
# A whole elementwise pack is combined in slices of this size, so that ``combine``'s
# temporaries stay in cache instead of costing the array's size each.
SLICE_BYTES = 2**18


class Tracker(Protocol):
    """What a progress display needs: told after each group of forwards."""

    def advance(self, amount: int = 1) -> None: ...


def _widened(value: Any) -> np.ndarray:
    """An output in float64, or complex128 if it is complex (never silently made real).

    The same conversion as :func:`symgrad.numeric.differences.perturbed` applies, so a
    grouped evaluation hands ``combine`` exactly the numbers an element-wise one would.
    """
    value = np.asarray(value)
    return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)


@dataclass
class Grouping:
    """How to perturb an array of ``shape`` whose function has outputs of ``out_shape``.

    Attributes:
        shape: the perturbed array's shape.
        out_shape: the function's output shape (``()`` for a scalar such as a loss).
        couplings: (input axis p, output axis q) pairs, each axis at most once: A[e]
            changes only outputs o with o[q] = e[p].
        tracker: told after every group (a progress bar), or None.
        weights: named non-negative output-shaped arrays w. For each, every call also
            records, per combined quantity c and element e, Σ over e's footprint of w·|c|
            in :attr:`spread`: with c ≈ h·J (a stencil's difference before its division
            by h) that is h·(|J|ᵀ·w)[e]. With w = |dout| it is the size of the terms the
            backward sums (its rounding scale); with w = an error in dout, how far that
            error can move the gradient (symgrad.checking).
        spread: name → one array per combined quantity, filled by :meth:`perturbed`.
        forwards: how many times the function was evaluated through this grouping.
    """

    shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    couplings: Couplings = ()
    tracker: Tracker | None = None
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    spread: dict[str, list[np.ndarray]] = field(default_factory=dict)
    forwards: int = 0
    _memo: tuple | None = field(default=None, repr=False)
    _remembering: bool = field(default=False, repr=False)
    _rest: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _rest_scale: np.ndarray | None = field(default=None, repr=False)
    _sizes: tuple[Any, np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.shape = tuple(int(n) for n in self.shape)
        self.out_shape = tuple(int(n) for n in self.out_shape)
        windows = tuple(c for c in self.couplings if isinstance(c, Window))
        exact = tuple(sorted((int(p), int(q)) for p, q in set(self.couplings) - set(windows)))
        pairs = tuple(sorted((*exact, *((w.p, w.q) for w in windows))))
        inputs, outputs = [p for p, _ in pairs], [q for _, q in pairs]
        if len(set(inputs)) != len(inputs) or len(set(outputs)) != len(outputs):
            raise ValueError(f"each axis may be coupled once: {pairs}")
        for p, q in exact:
            if self.shape[p] != self.out_shape[q]:
                raise ValueError(f"axis {p} ({self.shape[p]}) ≠ output axis {q}")
        self.couplings = tuple(sorted((*exact, *windows), key=_input_axis))
        self._windows = {w.p: w for w in windows}
        # Which outputs hold each input index along a window's axis, and, per pack (a
        # residue r), which of the pack's elements owns each output: rows r, r + size, ….
        self._incidence = {w.p: w.incidence(self.shape[w.p], self.out_shape[w.q]) for w in windows}
        # Summing a footprint: every output axis that is not coupled is summed away; the
        # coupled ones remain, ordered by q, and are put into the input's axis order.
        coupled_q = sorted(outputs)
        self._summed = tuple(q for q in range(len(self.out_shape)) if q not in outputs)
        self._summed_axes = tuple(1 + q for q in self._summed)
        order = tuple(coupled_q.index(q) for _, q in pairs)
        self._transposed = (0, *(1 + k for k in order))
        self._in_order = order == tuple(sorted(order))

    @property
    def coupled(self) -> tuple[int, ...]:
        """The input axes that are coupled to an output axis."""
        return tuple(_input_axis(c) for c in self.couplings)

    @property
    def elementwise(self) -> bool:
        """Each output element is the footprint of the input element of the same index."""
        same = self.shape == self.out_shape and self._summed == () and self._in_order
        return same and not self._windows

    @property
    def groups(self) -> int:
        """Forwards per displacement for the whole array: the product of the sizes of the
        input axes that are not coupled, and of the window's size along a window's axis."""
        return math.prod(
            min(n, self._windows[p].size) if p in self._windows else n
            for p, n in enumerate(self.shape)
            if p not in self.coupled or p in self._windows
        )

    def describe(self, name: str = "x", output: str = "out") -> str:
        """In words: ``W: 784 groups (axis 1 ↔ out axis 1)``."""
        count = ngettext("{count} group", "{count} groups", self.groups).format(
            count=f"{self.groups:,}"
        )
        if not self.couplings:
            return _(
                "{name}: {groups}, one element each (every element reaches every output)"
            ).format(name=name, groups=count)
        pairs = listed(
            _("axis {axis} ↔ {output} axis {output_axis}").format(
                axis=p, output=output, output_axis=q
            )
            if p not in self._windows
            else _("axis {axis} ↔ {output} axis {output_axis} in windows of {size}").format(
                axis=p, output=output, output_axis=q, size=self._windows[p].size
            )
            for p, q in ((_input_axis(c), _output_axis(c)) for c in self.couplings)
        )
        return _("{name}: {groups} ({couplings})").format(name=name, groups=count, couplings=pairs)

    @contextmanager
    def remembering(self) -> Iterator[Grouping]:
        """Within this block a call whose displacements repeat the previous call's for some
        elements re-evaluates only the others.

        :func:`symgrad.numeric.differences.numerical_gradient` re-runs its stencil once
        with smaller steps where truncation outweighs rounding; most elements keep their
        step, and their outputs (hence their results) would be the same numbers again.
        A call is a repeat only with the same f, x, dout and combining code, so only use
        this around one call of one method.
        """
        self._remembering, self._memo = True, None
        try:
            yield self
        finally:
            self._remembering, self._memo = False, None

    def packs(self, todo: np.ndarray | None = None) -> list[Pack]:
        """Sets of elements with pairwise disjoint footprints, as few as possible.

        Two elements' footprints are disjoint when their coupled indices differ in some
        coupled axis, so a pack holds at most one element per coupled index tuple. For
        the whole array (``todo`` None) that is one pack per combination of the other
        axes' indices, each a plain index (integers and slices: views, no copies); for a
        scattered few elements (a re-run) far fewer packs, as index arrays. Each pack is
        (its index into x, and None or the elements' coupled indices into its footprint
        sums when those are not simply all of them).
        """
        coupled, windows = self.coupled, self._windows
        if todo is None:
            # Along a window's axis a pack takes every size-th element, from residue r.
            free = [p for p in range(len(self.shape)) if p not in coupled or p in windows]
            counts = [
                min(windows[p].size, self.shape[p]) if p in windows else self.shape[p] for p in free
            ]
            packs: list[Pack] = []
            for index in np.ndindex(*counts):
                selection: list[int | slice] = [slice(None)] * len(self.shape)
                for axis, i in zip(free, index, strict=True):
                    selection[axis] = slice(i, None, windows[axis].size) if axis in windows else i
                packs.append((tuple(selection), None))
            return packs
        coords = np.nonzero(todo)
        if coords[0].size == 0:
            return []
        slot = np.zeros(coords[0].size, dtype=np.intp)
        if coupled:
            sizes = tuple(self.shape[p] for p in coupled)
            slot = np.ravel_multi_index(tuple(coords[p] for p in coupled), sizes)
        # An element's rank among the elements of its slot (row-major order) is its pack.
        order = np.argsort(slot, kind="stable")
        ranked = slot[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        counts = np.diff(np.r_[starts, ranked.size])
        rank = np.empty_like(order)
        rank[order] = np.arange(ranked.size) - np.repeat(starts, counts)
        if windows:  # elements of different residues along a window's axis may share one
            residues = np.ravel_multi_index(
                tuple(coords[p] % windows[p].size for p in windows),
                tuple(windows[p].size for p in windows),
            )
            rank = np.unique(residues * (rank.max() + 1) + rank, return_inverse=True)[1]
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.cumsum(np.bincount(rank))
        packs = []
        for members in np.split(by_rank, bounds[:-1]):
            index = tuple(axis[members] for axis in coords)
            packs.append((index, tuple(index[p] for p in coupled)))
        return packs

    def rest(self, x: np.ndarray, output: Any) -> None:
        """Remember f(x), the output at rest, so that no call repeats that forward.

        A grouping belongs to one function of one array: the caller has usually run the
        forward at x already (to learn its output's shape, or to probe its structure).
        """
        self._rest, self._rest_scale = (x, _widened(output)), None

    def _base(self, f: Function, x: np.ndarray) -> np.ndarray:
        """f(x) in float64 (complex128): remembered, or evaluated once and remembered."""
        if self._rest is None or self._rest[0] is not x:
            self._rest, self._rest_scale = (x, _widened(f(x))), None
            self.forwards += 1
        return self._rest[1]

    def _at_rest_scale(self, f: Function, x: np.ndarray) -> np.ndarray:
        """rounding_scale of f(x), computed once per output at rest (every call of one
        check's stencils, re-runs and kink check shares it)."""
        base = self._base(f, x)
        if self._rest_scale is None:
            self._rest_scale = rounding_scale(base)
        return self._rest_scale

    def magnitudes(self, dout: Any) -> np.ndarray:
        """|dout| in float64, computed once per upstream gradient (held, so that the same
        object is the same values)."""
        if self._sizes is None or self._sizes[0] is not dout:
            self._sizes = (dout, np.abs(np.asarray(dout, dtype=np.float64)))
        return self._sizes[1]

    def _attributed(self, contributions: np.ndarray, batch: Sequence[Pack] | None = None):
        """(packs, *out_shape) → (packs, *coupled sizes in input order): each element's
        share, the sum over its footprint.

        Along a window's axis an output belongs to several elements' footprints: with the
        ``batch`` of packs the outputs went with, each pack's shares are over its own
        elements (one in every window's size), a list of arrays; without, every element's
        share over its whole footprint (what one element alone would see)."""
        summed = contributions.sum(axis=self._summed_axes) if self._summed else contributions
        shared = summed if self._in_order else np.transpose(summed, self._transposed)
        if not self._windows:
            return shared
        axes = {p: 1 + k for k, p in enumerate(self.coupled)}
        if batch is None:
            for p, incidence in self._incidence.items():
                shared = np.moveaxis(np.tensordot(shared, incidence, ([axes[p]], [1])), -1, axes[p])
            return shared
        shares = []
        for row, pack in enumerate(batch):
            share = shared[row : row + 1]
            for p, residue in self._residues(pack).items():
                owners = self._incidence[p][residue :: self._windows[p].size]
                share = np.moveaxis(np.tensordot(share, owners, ([axes[p]], [1])), -1, axes[p])
            shares.append(share[0])
        return shares

    def _residues(self, pack: Pack) -> dict[int, int]:
        """Along each window's axis, the residue of the pack's elements (all alike)."""
        members, slots = pack
        if slots is None:
            return {p: members[p].start for p in self._windows}
        position = {p: k for k, p in enumerate(self.coupled)}
        return {p: int(slots[position[p]][0]) % w.size for p, w in self._windows.items()}

    def _within(self, pack: Pack) -> tuple[Any, ...] | None:
        """For a pack of scattered elements, their indices into the pack's own shares
        (along a window's axis, their rank among the elements of their residue)."""
        _members, slots = pack
        if slots is None:
            return None
        return tuple(
            index // self._windows[p].size if p in self._windows else index
            for p, index in zip(self.coupled, slots, strict=True)
        )

    def _own(self, own: np.ndarray, pack: Pack, part: tuple[Any, ...]) -> np.ndarray:
        """The pack's elements' part of ``own`` (every element's footprint share)."""
        members, slots = pack
        if slots is not None:
            return own[slots]
        if self._windows:
            return own[tuple(members[p] for p in self.coupled)]
        return own[part]

    def _outside(self, base, stacked, combine, size) -> list[tuple[float, np.ndarray] | None]:
        """Per combined magnitude m: its dout-weighted total over all outputs at x, and the
        part of that inside each footprint (None where m is 0 at rest).

        One element perturbed alone leaves every output outside its footprint at f(x),
        where ``combine`` gives the unperturbed magnitude (0 for a stencil's touched
        outputs, |f| for the complex step's). Adding that outside part to the footprint's
        own makes an element's magnitude the one a one-element perturbation measures,
        whatever else its pack moved.
        """
        kind = next((s.dtype for s in stacked if s is not None), base.dtype)
        unmoved = base.astype(kind, copy=False)
        outside: list[tuple[float, np.ndarray] | None] = []
        for _value, m in combine([unmoved] * len(stacked)):
            if m is None or not np.any(m):
                outside.append(None)
                continue
            # Outputs round on rounding_scale's size, as inside a footprint.
            m = np.where(np.asarray(m) > 0, np.maximum(m, rounding_scale(base)), 0.0)
            contributions = np.broadcast_to(size * m, self.out_shape)
            own = self._attributed(contributions[None])[0]
            outside.append((float(contributions.sum()), own))
        return outside

    def _slices(self, batch: list[Pack]) -> list[tuple[Any, ...]]:
        """Where to combine the stacked outputs: all at once, or, for one whole-array pack
        of an elementwise f (each output element the footprint of the input element of
        the same index), in slices of SLICE_BYTES along the first axis."""
        whole = len(batch) == 1 and batch[0][1] is None
        if not (whole and self.elementwise and self.shape):
            return [()]
        row_bytes = 8 * math.prod(self.shape[1:])
        step = max(1, SLICE_BYTES // max(1, row_bytes))
        return [(slice(i, i + step),) for i in range(0, self.shape[0], step)]

    def perturbed(
        self,
        f: Function,
        x: np.ndarray,
        dout: np.ndarray | float,
        displacements: Sequence[np.ndarray | None],
        combine: Combine,
    ) -> Combined:
        """:func:`symgrad.numeric.differences.perturbed`, a pack of elements at a time.

        Per element i of x: Σ dout·c and Σ |dout|·m over i's footprint, for each (c, m)
        that ``combine`` forms from the outputs at x displaced by dₖ on i's whole pack.
        The displacements arrive already in x's precision.

        ``combine`` is applied to the outputs of many packs at once, stacked along a new
        first axis, and for one whole-array pack to slices of them: it has to work
        element by element, as it already must for an elementwise f, where every output
        element belongs to a different perturbation.
        """
        if x.ndim == 0:  # one element: as an array of one, so that it can be indexed
            flat = Grouping((1,), self.out_shape, (), self.tracker, self.weights)
            single = x.reshape(1)
            if self._rest is not None and self._rest[0] is x:
                flat.rest(single, self._rest[1])
            shaped = [None if d is None else d.reshape(1) for d in displacements]
            results = flat.perturbed(lambda v: f(v.reshape(())), single, dout, shaped, combine)
            self.forwards += flat.forwards
            self.spread = {k: [a.reshape(()) for a in v] for k, v in flat.spread.items()}
            return [(v.reshape(()), None if m is None else m.reshape(())) for v, m in results]
        key = (f, x, dout, getattr(combine, "__code__", combine), len(displacements))
        size = self.magnitudes(dout)
        dout = np.asarray(dout, dtype=np.float64)
        dtype = np.result_type(x.dtype, *(d.dtype for d in displacements if d is not None))
        todo = None  # everything
        memo = self._memo if self._remembering else None
        results: Combined = []
        spread: dict[str, list[np.ndarray]] = {}
        if (
            memo is not None
            and len(memo[0]) == len(key)
            and all(a is b for a, b in zip(memo[0], key, strict=True))
        ):
            todo = np.zeros(x.shape, dtype=bool)
            for new, old in zip(displacements, memo[1], strict=True):
                if new is not None:
                    todo |= new != old
            results = [
                (values.copy(), None if sizes is None else sizes.copy())
                for values, sizes in memo[2]
            ]
            spread = {k: [a.copy() for a in v] for k, v in memo[3].items()}
        packs = self.packs(todo)
        if todo is not None and len(packs) >= self.groups:
            # As many forwards either way: the whole array's plain packs (views, not index
            # arrays) re-evaluate the unchanged elements to the same numbers.
            todo, packs, results, spread = None, self.packs(None), [], {}
        plain = todo is None  # packs are integers and slices: x[members] is a view
        # One working copy, displaced and restored pack by pack: copying a large
        # parameter for every forward would cost more than the forward itself.
        point = x.astype(dtype, copy=True)
        base = self._base(f, x) if any(d is None for d in displacements) else None
        rest_scale = self._at_rest_scale(f, x)  # remembered f(x): no forward
        outside = None
        # A chunk's stacked outputs stay within CHUNK_BYTES (16 bytes: a complex128 each).
        out_size = max(1, math.prod(self.out_shape))
        chunk = max(1, min(CHUNK_PACKS, CHUNK_BYTES // (16 * out_size * len(displacements))))
        for first in range(0, len(packs), chunk):
            batch = packs[first : first + chunk]
            stacked: list[np.ndarray | None] = [None] * len(displacements)
            for row, (members, _coupled) in enumerate(batch):
                view = plain and any(isinstance(i, slice) for i in members)
                for k, d in enumerate(displacements):
                    if d is None:
                        continue
                    if view:
                        np.add(x[members], d[members], out=point[members])
                    else:
                        point[members] = x[members] + d[members]
                    out = np.asarray(f(point))
                    if stacked[k] is None:
                        kind = np.complex128 if out.dtype.kind == "c" else np.float64
                        stacked[k] = np.empty((len(batch), *self.out_shape), dtype=kind)
                    stacked[k][row] = out  # widened to float64 (complex128) on the way in
                    self.forwards += 1
                point[members] = x[members]
            if outside is None:
                outside = self._outside(self._base(f, x), stacked, combine, size)
            # Slices index dout and the weights as they index the outputs.
            parts = self._slices(batch) if dout.shape == self.out_shape else [()]
            for part in parts:
                outputs = [
                    base[part] if d is None else out[(slice(None), *part)]
                    for d, out in zip(displacements, stacked, strict=True)
                ]
                combined = combine(outputs)
                if not results:
                    results = [
                        (np.empty(x.shape), None if m is None else np.empty(x.shape))
                        for _, m in combined
                    ]
                    spread = {name: [np.empty(x.shape)] for name in self.weights}
                at_rest = rest_scale[part]
                self._attribute(
                    combined, part, batch, dout, size, at_rest, outside, results, spread
                )
            if self.tracker is not None:
                self.tracker.advance(len(batch))
        if self._remembering and self.groups > 1:
            # The displacements are this call's own arrays, never changed afterwards.
            self._memo = (key, list(displacements), results, spread)
        self.spread = spread
        return results

    def _attribute(self, combined, part, batch, dout, size, base, outside, results, spread) -> None:
        """Write one batch's (or slice's) combined quantities into the per-element results:
        Σ dout·c and Σ |dout|·m over each element's footprint, plus the unperturbed part
        outside it, and for the first quantity Σ w·|c| per weight (:attr:`spread`).

        ``part`` is () or, for a whole elementwise pack, a slice of rows: there output
        and input share their indices, so the slice indexes dout, the weights and the
        results alike.
        """
        # Inside a footprint every output depends on the element by structure: one that
        # did not move failed to move by rounding (a saturated tanh in float32), so it
        # counts at the size it rounds on (differences.rounding_scale).
        at_rest = np.asarray(base)
        for k, ((values, sizes), (c, m)) in enumerate(zip(results, combined, strict=True)):
            if part and outside[k] is None and np.isrealobj(c):
                # A slice of a whole elementwise pack: every element's footprint is its own
                # output, so its contributions are written straight into its rows (with
                # the batch's axis of one in front, as the stacked outputs have it).
                rows = (np.newaxis, *part)
                np.multiply(dout[part], c, out=values[rows])
                if sizes is not None:
                    own = np.maximum(m, at_rest, out=sizes[rows])
                    np.multiply(size[part], own, out=own)
                for name, weights in self.weights.items() if k == 0 else ():
                    into = spread[name][0][rows]
                    np.multiply(weights[part], np.abs(c, out=into), out=into)
                continue
            targets = [(values, dout[part] * c, None)]
            if sizes is not None:
                targets.append((sizes, size[part] * np.maximum(m, at_rest), outside[k]))
            if k == 0:
                for name, weights in self.weights.items():
                    targets.append((spread[name][0], weights[part] * np.abs(c), None))
            for target, contributions, rest in targets:
                shares = self._attributed(np.broadcast_to(contributions, np.shape(c)), batch)
                for row, pack in enumerate(batch):
                    members, slots = pack
                    within = self._within(pack) if self._windows else slots
                    share = shares[row] if slots is None else shares[row][within]
                    if rest is not None:  # what lies outside the footprint, unperturbed
                        total, own = rest
                        share = share + (total - self._own(own, pack, part))
                    if part:
                        target[part] = share
                    else:
                        target[members] = share


def _input_axis(coupling: tuple[int, int] | Window) -> int:
    return coupling.p if isinstance(coupling, Window) else coupling[0]


def _output_axis(coupling: tuple[int, int] | Window) -> int:
    return coupling.q if isinstance(coupling, Window) else coupling[1]


def elementwise_couplings(shape: Sequence[int], out_shape: Sequence[int]) -> Couplings:
    """An elementwise function under NumPy broadcasting: axes aligned from the right are
    coupled where their sizes agree (an axis of size 1 broadcast against n is summed)."""
    offset = len(out_shape) - len(shape)
    return tuple(
        (p, p + offset)
        for p in range(len(shape))
        if p + offset >= 0 and shape[p] == out_shape[p + offset]
    )


def probe_couplings(
    f: Function,
    x: np.ndarray,
    base: np.ndarray,
    rng: np.random.Generator,
    probes: int = PROBES,
) -> Couplings:
    """Guess the couplings of an unknown f by perturbing a few single elements.

    Every pair of same-sized axes (input p, output q) is a candidate; a probe of element e
    refutes it when some output with o[q] ≠ e[p] changes. Probes are large (1 + |x[e]|,
    in both directions), so that a flat region (ReLU below 0) or a tiny derivative does
    not hide a dependence. The surviving pairs are matched one-to-one, preferring axes
    aligned from the right as broadcasting aligns them.

    A guess is only a plan for grouping: a wrong one can produce numeric values that
    disagree with the backward, never a false verdict, because those are re-derived with
    one-element perturbations before anything is reported.
    """
    base = np.asarray(base)
    candidates = {
        (p, q)
        for p in range(x.ndim)
        for q in range(base.ndim)
        if x.shape[p] == base.shape[q] and x.shape[p] > 1
    }
    if not candidates or x.size == 0:
        return ()
    # Large arrays probe several elements per forward: elements with pairwise different
    # indices on every axis, on axes at least SPARSE times as long as the probe is wide,
    # so that one element's dependence is seen outside the others' indices unless it
    # reaches only those few (then the guess is wrong, which costs time, never a verdict).
    together = max(1, min(probes, min(x.shape) // SPARSE, min(base.shape) // SPARSE))
    base_nan = np.isnan(base)
    base_nan = base_nan if base_nan.any() else None  # usually none: no NaN test per probe
    for start in range(0, min(probes, x.size), together):
        width = min(together, probes - start)
        elements = tuple(rng.choice(n, size=width, replace=False) for n in x.shape)
        changed = np.zeros(base.shape, dtype=bool)
        for sign in (1.0, -1.0):
            point = x.copy()
            point[elements] += sign * (1 + np.abs(np.real(point[elements])))
            with np.errstate(all="ignore"):
                out = np.asarray(f(point))
            if out.shape != base.shape:
                return ()  # the output's shape depends on the values: no structure to use
            moved = out != base
            if base_nan is not None:  # NaN where it was NaN has not moved
                moved &= ~(np.isnan(out) & base_nan)
            changed |= moved
        where = np.nonzero(changed)
        candidates = {(p, q) for p, q in candidates if np.all(np.isin(where[q], elements[p]))}
        if not candidates:
            return ()
    right_aligned = x.ndim - base.ndim
    chosen: list[tuple[int, int]] = []
    for p, q in sorted(candidates, key=lambda pq: (abs(pq[0] - pq[1] - right_aligned), pq)):
        if all(p != a and q != b for a, b in chosen):
            chosen.append((p, q))
    return tuple(sorted(chosen))


def grouped_gradient(
    f: Function,
    x: np.ndarray,
    dout: np.ndarray | float,
    method: Method | str,
    step: float | None,
    grouping: Grouping | bool,
) -> NumericGradient:
    """:func:`~symgrad.numeric.differences.numerical_gradient` perturbing by ``grouping``
    (or element by element / all at once for a bool); its re-run with shrunken steps then
    re-evaluates only the elements whose step changed."""
    if isinstance(grouping, bool):
        return numerical_gradient(f, x, dout, method, step, grouping)
    with grouping.remembering():
        return numerical_gradient(f, x, dout, method, step, grouping)
