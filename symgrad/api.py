"""The Python API the CLI is a thin shell over. Computing returns reports; it never prints.

Every command goes through here, and here the user's text is parsed (by
:mod:`symgrad.inputs`) into the typed values the core takes: shapes into tuples of ints,
``--dtype`` into a dtype, ``--method`` into a :class:`~symgrad.numeric.methods.Method`,
numbers into finite floats, with the arrays' total size checked before any is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from symgrad.checking.containment import DEFAULT_TIMEOUT
from symgrad.comparison.shapes import array_shapes
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.inputs import (
    check_budget,
    parse_at,
    parse_count,
    parse_dtype,
    parse_init,
    parse_input,
    parse_method,
    parse_order,
    parse_point,
    parse_seed,
    parse_setting,
    parse_shape,
    parse_step,
    parse_timeout,
)
from symgrad.layers import get_layer

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np

    from symgrad.checking.report import LayerCheck, NetworkCheck
    from symgrad.layers.spec import Layer
    from symgrad.numeric.methods import Method
    from symgrad.reports import Backprop, Comparison, Derivation, SecondDerivation, StepSweep

Number = str | float


def derive(
    name: str,
    shape: str | tuple[int, ...] | None = None,
    batch: str | int = 2,
    order: str | int = 1,
) -> Derivation | SecondDerivation:
    """Derive a catalog layer's derivatives with SymPy, node by node, as the note teaches.

    Args:
        name: catalog name, case- and separator-insensitive (``SoftmaxWithLoss`` works);
            or a worked example of the note (``apple``), or an expression (``(x+y)**2``,
            whose inputs are its variables, sorted by name, and whose output is z).
        shape: the layer's ``--shape``; for ``affine``, the weight's shape ``IN,OUT``: the
            derivation then shows concrete shapes (with ``batch`` rows of X) instead of
            N×IN, IN×OUT. Other layers' derivations do not depend on it.
        batch: rows of X when ``shape`` is given.
        order: 2 for the second derivatives (every catalog layer, and expressions).

    Returns:
        A :class:`~symgrad.reports.Derivation`: the forward expression, the graph's nodes
        with their local derivatives, the chain rule per input, and the final derivatives
        (in the output y, and the label t, where the note writes them that way). At
        order 2 a :class:`~symgrad.reports.SecondDerivation`: the Hessian's entries, for
        one input in the output (sigmoid's y(1 − y)(1 − 2y)), with the step that gets
        there; for affine the Hessian-vector product at matrix level.

    Raises:
        SymgradError: for order 2 of a layer whose SymPy form derives no second
            derivatives.
    """
    from symgrad.graph.targets import resolve
    from symgrad.symbolic.cache import remember

    target = resolve(name)
    if parse_order(order) == 2:
        return _second(target)
    if target.layer is None:  # an expression or a worked example: derived like a layer
        from symgrad.expressions.budget import DERIVE_SECONDS, time_limit
        from symgrad.expressions.parse import excerpt

        what = _("deriving {expression}").format(expression=excerpt(target.name))
        hint = _("`symgrad graph … --at` draws it with numbers, without simplifying")
        with time_limit(DERIVE_SECONDS, what, hint):
            return target.form.derive(target.name)
    layer = target.layer
    sizes = None
    if shape is not None:
        dims = (
            parse_shape(shape, "--shape", layer.kind.shape_length)
            if isinstance(shape, str)
            else tuple(shape)
        )
        batch = parse_count(batch, "--batch")
        sizes = layer.kind.derivation_sizes(layer, array_shapes(layer, dims, batch))
    if sizes is not None:
        return remember(
            ("derive", layer.name, repr(sizes)), lambda: layer.form.derive(layer.name, sizes)
        )
    return remember(("derive", layer.name), lambda: layer.form.derive(layer.name))


def _second(target: Any) -> SecondDerivation:
    """``derive --order 2`` of a resolved target."""
    from symgrad.symbolic.cache import remember

    if target.layer is not None and not hasattr(target.layer.form, "derive_second"):
        raise SymgradError(
            _("--order 2: {name}'s Hessian-vector product is not derived yet").format(
                name=target.name
            )
        )
    if target.layer is None:
        from symgrad.expressions.budget import DERIVE_SECONDS, time_limit
        from symgrad.expressions.parse import excerpt

        with time_limit(
            DERIVE_SECONDS, _("deriving {expression} twice").format(expression=excerpt(target.name))
        ):
            return target.form.derive_second(target.name)
    layer = target.layer
    return remember(("derive", layer.name, "order 2"), lambda: layer.form.derive_second(layer.name))


def graph(
    target: str,
    at: str | Sequence[str] | Mapping[str, str | float] | None = None,
    dout: str | float = 1,
) -> Backprop:
    """Run a computational graph forward and backward, with every node's values.

    Args:
        target: a worked example of the note (``apple-orange``), a scalar catalog layer
            (``sigmoid``), or an expression (``(x+y)**2``), parsed safely.
        at: input name → value, or ``--at``'s text (``x=1,y=2``; a bare ``2`` for a
            single input); every input needs one (an example has the note's numbers).
        dout: ∂L/∂output where the backward pass starts.

    Returns:
        A :class:`~symgrad.reports.Backprop`: per node its operation, inputs, forward value,
        local derivatives and their values, the upstream gradient and what it sends down;
        and ∂L/∂input for every input.
    """
    from symgrad.graph.model import backprop
    from symgrad.graph.targets import resolve

    return backprop(resolve(target), parse_point(at), dout)


def has_own_values(target: str) -> bool:
    """Whether ``target`` (as for :func:`graph`) is a worked example, which comes with
    the note's numbers; a layer or an expression needs ``at`` for a graph with values."""
    from symgrad.graph.targets import resolve

    return bool(resolve(target).values)


def draws_values(target: str) -> bool:
    """Whether :func:`graph` can draw ``target`` with numbers: a scalar graph (an
    expression, an example, an elementwise layer), not a matrix or class layer."""
    from symgrad.graph.targets import resolve
    from symgrad.symbolic.scalar import ScalarForm

    return isinstance(resolve(target).form, ScalarForm)


def compare(
    name: str | Layer,
    shape: str | tuple[int, ...] | None = None,
    seed: str | int = 0,
    dtype: str = "float64",
    batch: str | int = 2,
    method: str | Method = "central",
    step: Number | None = None,
    at: Number | str | Mapping[str, Number] | None = None,
    exact: bool = False,
    order: str | int = 1,
) -> Comparison:
    """Check a catalog layer's NumPy backward against SymPy and numerical differences.

    The arguments are :func:`symgrad.comparison.engine.compare`'s, as text or as values;
    each is parsed and checked here (one :class:`~symgrad.errors.SymgradError` line for
    the first that is malformed). ``order=2`` checks the second derivative instead
    (:func:`symgrad.comparison.second.compare_second`): SymPy's Hessian-vector product
    against the numeric derivative of the NumPy backward.
    """
    from symgrad.comparison import engine

    layer = get_layer(name) if isinstance(name, str) else name
    if parse_order(order) == 2:
        from symgrad.comparison.second import compare_second

        if exact:
            raise SymgradError(_("--exact is for order 1: --order 2 has no 50-digit column yet"))
        return compare_second(
            layer,
            shape=parse_shape(shape, "--shape", layer.kind.shape_length)
            if isinstance(shape, str)
            else shape,
            seed=parse_seed(seed),
            dtype=parse_dtype(dtype).name,
            method=parse_method(method),
            step=parse_step(step),
            at=parse_at(at, layer.inputs),
        )
    return engine.compare(
        name,
        shape=parse_shape(shape, "--shape", layer.kind.shape_length)
        if isinstance(shape, str)
        else shape,
        seed=parse_seed(seed),
        dtype=parse_dtype(dtype).name,
        batch=parse_count(batch, "--batch"),
        method=parse_method(method),
        step=parse_step(step),
        at=parse_at(at, layer.inputs),
        exact=exact,
    )


def steps(
    layer: str,
    at: Number | str | Mapping[str, Number] | None = None,
    methods: Sequence[str] | None = None,
    dtype: str = "float64",
    per_decade: int = 1,
    order: str | int = 1,
) -> StepSweep:
    """Error versus step of each numeric method at one point, against SymPy's exact value.

    Args:
        layer: a catalog layer's name.
        at: the point: one value for every input (``0.5``), or each input by name
            (``"x=1,y=2"`` or a mapping); an input not named is at 0.5.
        methods: numeric methods by name (default: every one the layer allows).
        dtype: ``float64`` or ``float32``.
        per_decade: steps tried per factor of ten, from 1e-1 down to 1e-16.
        order: 2 for the second derivative of an elementwise layer: the forward's second
            difference (its V at ε^(1/4)) and the backward's central difference, against
            SymPy's f″ (``methods`` does not apply).

    Returns:
        A :class:`~symgrad.reports.StepSweep`: per method the error at every step, where
        truncation and rounding each win, the best step and symgrad's automatic one.
    """
    from symgrad.comparison.sweep import second_order_sweep, step_sweep

    if parse_order(order) == 2:
        if methods:
            raise SymgradError(
                _("--method chooses first-order methods; --order 2 shows its own two curves")
            )
        return second_order_sweep(
            layer,
            at=parse_at(at, get_layer(layer).inputs),
            dtype=parse_dtype(dtype).name,
            per_decade=per_decade,
        )
    return step_sweep(
        layer,
        at=parse_at(at, get_layer(layer).inputs),
        methods=[parse_method(m) for m in methods] if methods else None,
        dtype=parse_dtype(dtype).name,
        per_decade=per_decade,
    )


def catalog() -> list[dict[str, str]]:
    """The catalog's layers, in teaching order.

    Returns:
        One dict per layer: ``layer`` (its name), ``forward`` and ``derivative`` (as SymPy
        derived them when the catalog was generated, so SymPy is not imported here),
        ``shape`` (what ``--shape`` means) and ``default_shape``.
    """
    import json
    from importlib import resources

    from symgrad.i18n import language
    from symgrad.layers import CATALOG

    derived = json.loads(
        resources.files("symgrad.layers").joinpath("derived.json").read_text(encoding="utf-8")
    )
    return [
        {
            "layer": layer.name,
            **derived[layer.name][language()],
            "shape": layer.shape_meaning,
            "default_shape": ",".join(map(str, layer.default_shape)),
        }
        for layer in CATALOG
    ]


def check_layer(
    layer: Any,
    *inputs: Any,
    constants: Sequence[int] = (),
    seed: str | int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    symbolic: Any = None,
    params: Sequence[str] | None = None,
    fast: bool = False,
    step: Number | None = None,
    progress: bool | None = None,
    timeout: Number | None = DEFAULT_TIMEOUT,
    keywords: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> LayerCheck:
    """Check a layer object's backward against its forward, as it is.

    The layer needs only the note's interface: ``forward(*inputs)`` returns the output,
    ``backward(dout)`` returns one gradient per differentiated input (a tuple when there
    are several) and stores parameter gradients as ``d<name>`` (``dW`` for ``W``). Every
    element of every gradient is held to its own bound from the numeric method's error
    model (:func:`symgrad.checking.layer.check_layer` says how). An activation in
    numpy-ml's convention (``fn``, ``grad``, optionally ``grad2``; no forward/backward)
    is checked as such, grad against fn and grad2 against grad
    (:func:`symgrad.checking.activation.check_activation`). A layer with ``hvp(x, v)``
    beside forward and backward has it checked too, against the numeric derivative of
    its backward (:func:`symgrad.checking.hessian.check_hvp`).

    Args:
        layer: the object; its own arrays are as they were afterwards.
        *inputs: forward's arguments, in order.
        constants: positions of inputs that are not differentiated (labels).
        seed: seeds dout, the structure probes and fast mode's directions.
        dtype: ``float64`` or ``float32``; by default the inputs' own.
        method: a numeric method (``central`` by default, ``five-point``, ``richardson``, …).
        symbolic: a SymPy forward for a third column, a catalog name, or False for none.
        params: the parameter attributes; by default those ``X`` with a stored ``dX``.
        fast: one random projection per gradient first, element by element where that
            disagrees.
        step: a fixed step instead of the automatic one.
        progress: a progress bar past a second (default: when stderr is a terminal).
        timeout: seconds one forward or backward may run before it is stopped (a finding).
        keywords: keyword arguments for every forward call (``train_flg=True``).
        strict: count as errors the two lenient warnings: a backward that is the exact
            derivative of a formula its forward smooths slightly (log(y + 1e-7)), and a
            loss that ignores dout.

    Returns:
        A :class:`~symgrad.checking.report.LayerCheck`: ``.ok``, ``.problems`` (sentences
        naming the fix), ``.checked`` and the comparison table.
    """
    from symgrad.checking.activation import check_activation, follows_protocol
    from symgrad.checking.hessian import check_hvp, has_hvp, merged
    from symgrad.checking.layer import check_layer as check

    options = {
        "seed": parse_seed(seed),
        "dtype": None if dtype is None else parse_dtype(dtype),
        "method": None if method is None else parse_method(method),
        "symbolic": symbolic,
        "fast": fast,
        "step": parse_step(step),
        "progress": progress,
        "timeout": parse_timeout(timeout),
    }
    if not follows_protocol(layer):
        report = check(
            layer,
            *inputs,
            constants=constants,
            params=params,
            keywords=keywords,
            strict=strict,
            **options,
        )
        if not has_hvp(layer):
            return report
        del options["fast"]  # a Hessian-vector product is checked element by element
        return merged(report, check_hvp(layer, *inputs, constants=constants, **options))
    if constants or params or keywords:
        from symgrad.errors import SymgradError

        raise SymgradError(
            _(
                "{layer} is an activation (fn, grad): it takes one array, no labels, "
                "parameters or forward keywords"
            ).format(layer=type(layer).__name__)
        )
    return check_activation(layer, *inputs, **options)


def check_network(
    spec_or_layers: str | Sequence[Any],
    x: Any,
    t: Any,
    seed: str | int = 0,
    dtype: str | np.dtype | None = None,
    method: str | Method | None = None,
    fast: bool = False,
    step: Number | None = None,
    progress: bool | None = None,
    timeout: Number | None = DEFAULT_TIMEOUT,
) -> NetworkCheck:
    """Check a network's backprop, every parameter end to end and every layer locally.

    ``seed``, ``dtype``, ``method``, ``fast``, ``step``, ``progress`` and ``timeout`` are
    as for :func:`check_layer`.

    Args:
        spec_or_layers: ``"affine:50,relu,affine:10,softmax-with-loss"`` (catalog layers
            with the book's initialisation from ``seed``), or a list of layer objects with
            the note's interface, the last one the loss (``forward(x, t)`` → a scalar).
        x: the input batch.
        t: the labels.

    Returns:
        A :class:`~symgrad.checking.report.NetworkCheck`: per parameter the book's max
        and mean |backprop − numeric| and a verdict per element; per layer its local
        verdict; ``broken`` names the layers whose own backward is wrong.
    """
    from symgrad.checking.network import check_network as check

    return check(
        spec_or_layers,
        x,
        t,
        seed=parse_seed(seed),
        dtype=None if dtype is None else parse_dtype(dtype),
        method=None if method is None else parse_method(method),
        fast=fast,
        step=parse_step(step),
        progress=progress,
        timeout=parse_timeout(timeout),
    )


def check_file(
    target: str,
    inputs: Sequence[str] = (),
    labels: Sequence[str] = (),
    init: Sequence[str] = (),
    seed: str | int = 0,
    dtype: str = "float64",
    method: str | Method = "central",
    step: Number | None = None,
    fast: bool = False,
    timeout: Number | None = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    settings: Sequence[str] = (),
    flags: Sequence[str] = (),
    paths: Sequence[str] = (),
    strict: bool = False,
    symbolic: str | None = None,
) -> LayerCheck:
    """Check a layer class from a file, ``FILE.py:ClassName``, as it is written.

    Args:
        target: the file and the class.
        inputs: the shape of each of forward's inputs (``"2,3"``), seeded standard-normal;
            ``"3:10"`` for an integer input in [0, 10) (class labels, word ids), which is
            not differentiated.
        labels: shapes ``N,C`` of one-hot labels, which follow the inputs.
        init: constructor arrays, ``"W=3,4"`` (seeded standard-normal).
        settings: the constructor's other arguments, ``"stride=2"``, ``"ratio=0.5"``,
            ``"affine=False"`` (numbers and True/False, read as data).
        flags: keyword arguments of every forward call, ``"train_flg=True"``.
        paths: folders to import from besides the file's own and the current one.
        strict: as :func:`check_layer`'s.
        symbolic: the layer's formula for a third column: a catalog layer's name
            (``softmax-with-loss``) or an expression in forward's argument names and the
            parameters' (``1/(1 + exp(-x))``), parsed safely, never evaluated.
        seed: as :func:`check_layer`'s.
        dtype: as :func:`check_layer`'s.
        method: as :func:`check_layer`'s.
        step: as :func:`check_layer`'s.
        fast: as :func:`check_layer`'s.
        timeout: seconds the file, the constructor, and each forward or backward may run.
        progress: as :func:`check_layer`'s.

    Returns:
        A :class:`~symgrad.checking.report.LayerCheck`. Whatever the user's code does
        (raise, sys.exit, never return, even while the file is loaded) is a finding in it.

    Raises:
        SymgradError: malformed or oversized input, before the file is run.
    """
    from symgrad.checking import findings as say
    from symgrad.checking.containment import UserCodeFailed
    from symgrad.checking.loading import (
        build_layer,
        check_labels,
        load_class,
        random_inputs,
        split_target,
    )
    from symgrad.checking.report import LayerCheck
    from symgrad.errors import SymgradError
    from symgrad.layers.spec import seeded_rng

    if not inputs and not labels:
        raise SymgradError(_("give forward's inputs, e.g. --input 2,3 (repeat for each input)"))
    parsed_inputs = [parse_input(text) for text in inputs]
    input_shapes = [shape for shape, high in parsed_inputs if high is None]
    label_shapes = [parse_shape(text, "--labels") for text in labels]
    constructor = dict(parse_setting(text, "--set") for text in settings)
    keywords = dict(parse_setting(text, "--flag") for text in flags)
    inits: dict[str, tuple[int, ...]] = {}
    for text in init:
        name, shape = parse_init(text)
        if name in inits:
            raise SymgradError(_("--init {name} is given twice").format(name=name))
        inits[name] = shape
    check_labels(label_shapes, input_shapes)
    arrays = {f"--input {k + 1}": s for k, (s, _) in enumerate(parsed_inputs)}
    arrays |= {f"--labels {k + 1}": s for k, s in enumerate(label_shapes)}
    check_budget(arrays | {f"--init {n}": s for n, s in inits.items()})
    seed, chosen = parse_seed(seed), parse_dtype(dtype)
    method, step, limit = parse_method(method), parse_step(step), parse_timeout(timeout)
    formula = None if symbolic is None else _formula(symbolic)
    split_target(target)  # a malformed target is bad input, before the file runs
    rng = seeded_rng(seed)
    try:
        cls = load_class(target, limit, paths)
        layer = build_layer(cls, inits, rng, chosen, limit, constructor)
    except UserCodeFailed as failure:
        name = target.rpartition(":")[2]
        return LayerCheck(layer=name, comparison=None, findings=(say.user_code_failed(failure),))
    values, constants = random_inputs(parsed_inputs, label_shapes, rng, chosen)
    return check_layer(
        layer,
        *values,
        keywords=keywords,
        strict=strict,
        symbolic=formula,
        constants=constants,
        seed=seed,
        dtype=chosen,
        method=method,
        step=step,
        fast=fast,
        timeout=limit,
        progress=progress,
    )


def _formula(text: str) -> Any:
    """``--symbolic``: a catalog layer by name, else an expression through the safe parser."""
    from symgrad.errors import SymgradError
    from symgrad.layers import get_layer

    try:
        return get_layer(text)
    except SymgradError:
        from symgrad.expressions.parse import parse_expression

        return parse_expression(text)


def check_net(
    spec: str,
    input_shape: str | tuple[int, ...] = "3,784",
    seed: str | int = 0,
    dtype: str = "float64",
    method: str | Method | None = None,
    step: Number | None = None,
    fast: bool = False,
    timeout: Number | None = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    labels: str | None = None,
    settings: Sequence[str] = (),
    init: Sequence[str] = (),
    paths: Sequence[str] = (),
) -> NetworkCheck:
    """Check a network on a seeded input batch of ``input_shape`` (N,IN) and random
    one-hot labels: a catalog spec, ``"affine:50,relu,affine:10,softmax-with-loss"``, or
    a network class of your own, ``FILE.py:CLASS`` (the book's ``TwoLayerNet``: built
    from ``settings`` such as ``input_size=784`` and ``init`` arrays, its labels of shape
    ``labels`` N,C).

    The other arguments are :func:`symgrad.checking.check_network`'s, as text or values.

    Returns:
        A :class:`~symgrad.checking.report.NetworkCheck`, as :func:`check_network`'s.

    Raises:
        SymgradError: malformed input, or arrays over the memory budget (checked from the
            spec's sizes before any array is made).
    """
    import numpy as np

    from symgrad.checking.network import parse_spec, spec_shapes
    from symgrad.errors import SymgradError

    shape = parse_shape(input_shape, "--input") if isinstance(input_shape, str) else input_shape
    if len(shape) < 2:
        raise SymgradError(
            _("--input takes a batch first (N,IN), got {input_shape}").format(
                input_shape=input_shape
            )
        )
    seed, chosen = parse_seed(seed), parse_dtype(dtype)
    chosen_method = None if method is None else parse_method(method)
    step, limit = parse_step(step), parse_timeout(timeout)
    rng = np.random.default_rng([seed, 1])  # a stream of its own: the weights use seed's
    if ".py:" in spec:
        return _check_net_file(
            spec, shape, labels, settings, init, paths, seed, chosen, chosen_method, step,
            fast, limit, progress, rng,
        )  # fmt: skip
    arrays = spec_shapes(spec, shape)
    check_budget(arrays)
    x = rng.standard_normal(shape).astype(chosen)
    loss, _argument = parse_spec(spec)[-1]  # its labels: one-hot rows, 0/1 per element, targets
    t = loss.label_values.draw(arrays["t"], rng)
    return check_network(
        spec,
        x,
        t,
        seed=seed,
        dtype=chosen,
        method=chosen_method,
        fast=fast,
        step=step,
        timeout=limit,
        progress=progress,
    )


def _check_net_file(
    target, shape, labels, settings, init, paths, seed, dtype, method, step, fast, limit,
    progress, rng,
) -> NetworkCheck:  # fmt: skip
    """``symgrad net FILE.py:CLASS``: the user's network class, built and checked."""
    from symgrad.checking import findings as say
    from symgrad.checking.containment import UserCodeFailed
    from symgrad.checking.loading import build_layer, load_class, split_target
    from symgrad.checking.report import NetworkCheck
    from symgrad.errors import SymgradError
    from symgrad.layers.spec import random_labels

    if labels is None:
        raise SymgradError(_("a network class needs its labels' shape: --labels N,C"))
    label_shape = parse_shape(labels, "--labels")
    if len(label_shape) != 2 or label_shape[0] != shape[0]:
        raise SymgradError(
            _("--labels takes N,C with N = {batch}, the batch, got {labels}").format(
                batch=shape[0], labels=labels
            )
        )
    constructor = dict(parse_setting(text, "--set") for text in settings)
    inits = dict(parse_init(text) for text in init)
    check_budget({"--input": shape, "--labels": label_shape} | inits)
    split_target(target)
    try:
        cls = load_class(target, limit, paths)
        network = build_layer(cls, inits, rng, dtype, limit, constructor)
    except UserCodeFailed as failure:
        name = target.rpartition(":")[2]
        return NetworkCheck(
            spec=name, layers=(), shapes={}, dtype=dtype.name, seed=seed, loss=float("nan"),
            step="", parameters=(), local=(), findings=(say.user_code_failed(failure),),
        )  # fmt: skip
    x = rng.standard_normal(shape).astype(dtype)
    t = random_labels(label_shape, rng)
    return check_network(
        network, x, t, seed=seed, dtype=dtype, method=method, fast=fast, step=step,
        timeout=limit, progress=progress,
    )  # fmt: skip


__all__ = [
    "catalog",
    "check_file",
    "check_layer",
    "check_net",
    "check_network",
    "compare",
    "derive",
    "graph",
    "steps",
]
