"""Reports as JSON-ready dicts, in the stable shapes documented in the README."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from symgrad.render.mathtext import plain
from symgrad.reports import (
    PAIRS,
    Backprop,
    Comparison,
    Derivation,
    GradientCheck,
    SecondDerivation,
    StepSweep,
)


def derivation(report: Derivation) -> dict[str, Any]:
    """``derive --json``: every expression as a string ``sympy.sympify`` reads back.

    ``"symbols"`` names every symbol the strings use, with its shape: ``[]`` for a real
    scalar, rows and columns for a matrix layer's ``MatrixSymbol``. Bound to those (as
    ``locals``), the strings read back exactly, even names SymPy would take for its own
    constants (``E``, ``I``, ``pi``, ``gamma``).
    """
    result: dict[str, Any] = {
        "layer": report.layer,
        "output": report.output,
        "forward": plain(report.forward),
        "inputs": list(report.inputs),
        "nodes": [
            {
                "op": node.op,
                "output": node.output,
                "inputs": list(node.inputs),
                "expression": plain(node.expression),
                "local_derivatives": {k: plain(v) for k, v in node.local_derivatives.items()},
                **_edges(node),
            }
            for node in report.nodes
        ],
        "chain_rule": {chain.wrt: plain(chain.product) for chain in report.chains},
        "derivatives": {name: plain(value) for name, value in report.derivatives.items()},
    }
    if report.extra_derivatives:
        result["other_derivatives"] = [
            {"wrt": e.wrt, "condition": str(e.condition), "derivative": plain(e.value)}
            for e in report.extra_derivatives
        ]
    if report.matrix:
        shapes = dict(report.shapes)
        for node in report.nodes:  # intermediate results and their upstream gradients too
            for name, shape in node.shapes.items():
                shapes.setdefault(name, shape)
                shapes.setdefault(f"d{name}", shape)
        result["symbols"] = {name: shape.split("×") for name, shape in shapes.items()}
    elif report.walk:  # a column: per-element quantities are read as x[n], n = 1…N
        result["backward_walk"] = {name: plain(rule) for name, rule in report.walk}
        result["symbols"] = _column_names(report)
    else:
        result["symbols"] = {name: [] for name in _scalar_names(report)}
    if report.notes:
        result["notes"] = [str(n) for n in report.notes]
    return result


def _column_names(report: Derivation) -> dict[str, list[str]]:
    """A column layer's symbols: each per-element quantity's base (x, read as x[n]) with
    the shape [N], every other name a scalar."""
    import sympy as sp  # only a derivation, which has imported it already, gets here

    expressions = [report.forward, *report.derivatives.values()]
    expressions += [rule for _name, rule in report.walk]
    for node in report.nodes:
        expressions += [node.expression, *node.local_derivatives.values()]
    found: dict[str, list[str]] = {}
    for expression in expressions:
        for atom in expression.atoms(sp.Indexed):
            found[str(atom.base)] = ["N"]
        for symbol in expression.free_symbols:
            if not isinstance(symbol, sp.Indexed | sp.IndexedBase):
                found.setdefault(str(symbol), [])
    return dict(sorted(found.items()))


def _edges(node) -> dict[str, Any]:
    """A node an input fills several positions of (x·x): ``operation`` on stand-ins (a*b)
    and per position ``{stand_in, input, rule, local}`` (for graph: ``local`` is the value
    and ``sent`` what the edge sends back); nothing for any other node."""
    if not node.edges:
        return {}
    edges = [
        {
            "stand_in": edge.stand_in,
            "input": edge.input,
            "rule": plain(edge.rule),
            "local": edge.local if isinstance(edge.local, float) else plain(edge.local),
            **({"sent": edge.sent} if hasattr(edge, "sent") else {}),
        }
        for edge in node.edges
    ]
    return {"operation": plain(node.operation), "edges": edges}


def _scalar_names(report: Derivation) -> list[str]:
    """Every symbol the derivation's expressions use, by name, in a stable order."""
    expressions = [report.forward, *report.derivatives.values()]
    expressions += [chain.product for chain in report.chains]
    expressions += [e.value for e in report.extra_derivatives]
    for node in report.nodes:
        expressions += [node.expression, *node.local_derivatives.values()]
        expressions += [node.operation, *(edge.rule for edge in node.edges)] if node.edges else []
    names = {str(s) for e in expressions for s in getattr(e, "free_symbols", ())}
    ordered = [*report.inputs, *(node.output for node in report.nodes)]
    return [n for n in ordered if n in names] + sorted(names - set(ordered))


def second_derivation(report: SecondDerivation) -> dict[str, Any]:
    """``derive --order 2 --json``: the Hessian's entries keyed ``"x,y"`` (``"x,x"`` for
    ∂²/∂x²; a ≤ b in the inputs' order), in the output where the first derivative is
    (``second``) and in the inputs (``in_inputs``); ``kinks`` are equations where no
    second derivative exists; ``hvp`` a loss row's (H·v)ᵢ (else null); ``products`` a
    matrix layer's H·v per input (else empty), along directions named v<input>. Strings
    read back with ``sympify`` and ``symbols``."""
    expressions = [report.forward, *report.first.values(), *report.second.values()]
    expressions += [report.hvp] if report.hvp is not None else []
    expressions += list(report.products.values())
    names = {str(s) for e in expressions for s in getattr(e, "free_symbols", ())}
    return {
        "layer": report.layer,
        "order": 2,
        "output": report.output,
        "forward": plain(report.forward),
        "inputs": list(report.inputs),
        "first": {name: plain(value) for name, value in report.first.items()},
        "second": {",".join(pair): plain(value) for pair, value in report.second.items()},
        "in_inputs": {",".join(pair): plain(value) for pair, value in report.in_inputs.items()},
        "kinks": [plain(where) for where in report.kinks],
        "hvp": None if report.hvp is None else plain(report.hvp),
        "products": {name: plain(value) for name, value in report.products.items()},
        "notes": [str(n) for n in report.notes],
        # A matrix's shape by its dimensions' names (affine's X: [N, IN]), as at order 1;
        # every other name is a real scalar.
        "symbols": {
            name: report.shapes[name].split("×") if name in report.shapes else []
            for name in sorted(names | set(report.inputs))
            if not report.shapes or name in report.shapes  # not affine's sizes N, IN, OUT
        },
    }


def comparison(report: Comparison) -> dict[str, Any]:
    """``compare --json``.

    Stable keys: layer, ok, shapes, dtype, seed, step, gradients[name, shape, ok,
    tolerance{pair}, errors{pair}, relative_error]. Every element is held to its own
    bound: ``errors[pair]`` is the difference at the pair's worst element (the largest
    difference / bound) and ``tolerance[pair]`` that element's bound, so the pair agrees
    exactly when errors ≤ tolerance. Added with the numeric methods: method, at, notes,
    and per gradient ``model`` (the error model behind the worst element's bound),
    ``kinks`` (only where one-sided derivatives disagree) and ``precision`` (only with
    ``--exact``). Added with the verdict per element: ``problems``, and per gradient
    ``worst{pair}`` (index, the two values, difference, bound, ratio), ``max_difference
    {pair}``, ``wrong`` (elements that disagree) and ``unreliable`` (elements whose numeric
    value cannot judge them). Added with ``--order 2``: ``order`` (1 or 2; at 2 each
    gradient is ``H·v``, or ``(H·v)[name]`` per array of a layer with several: "backward"
    is SymPy's Hessian-vector product, "numeric" the numeric derivative of the NumPy
    backward and "symbolic", for a small layer, the NumPy forward's second differences,
    whose pairs' bounds include that column's own error).
    """
    return {
        "layer": report.layer,
        "ok": report.ok,
        "shapes": {name: list(shape) for name, shape in report.shapes.items()},
        "dtype": report.dtype,
        "seed": report.seed,
        "step": report.step,
        "method": report.method,
        "at": report.at,
        "notes": [str(n) for n in report.notes],
        "problems": list(report.problems),
        "order": report.order,
        "gradients": [gradient(check) for check in report.gradients],
    }


def gradient(check: GradientCheck) -> dict[str, Any]:
    """One gradient's check (a row of ``compare --json``), also used by ``check --json``."""
    result: dict[str, Any] = {
        "name": check.name,
        "shape": list(check.shape),
        "ok": check.ok,
        "tolerance": {pair: check.tolerance[pair] for pair in PAIRS if pair in check.errors},
        "errors": {pair: check.errors[pair] for pair in PAIRS if pair in check.errors},
        "relative_error": check.relative_error,
        "worst": {
            pair: {**dataclasses.asdict(worst), "index": list(worst.index)}
            for pair, worst in check.worst.items()
        },
        "max_difference": dict(check.max_difference),
        "wrong": check.wrong,
        "unreliable": check.unreliable_count,
    }
    if check.model is not None:
        result["model"] = dataclasses.asdict(check.model)
    if check.kinks is not None:
        kinks = check.kinks
        result["kinks"] = {
            "count": kinks.count,
            "subgradient": kinks.subgradient,
            "step": kinks.step,
            "points": [
                {
                    "index": [int(i) for i in index],
                    "input": float(kinks.inputs[index]),
                    "left": float(kinks.left[index]),
                    "right": float(kinks.right[index]),
                    "backward": float(check.backward[index]),
                    "symbolic": None if check.symbolic is None else float(check.symbolic[index]),
                }
                for index in zip(*np.nonzero(kinks.mask), strict=True)
            ],
        }
    if check.precision is not None:
        result["precision"] = dataclasses.asdict(check.precision)
    return result


def backprop(report: Backprop) -> dict[str, Any]:
    """``graph --json``: the output's value, every input's gradient, and every node.

    A node's ``inputs`` maps each input to its forward value; ``local_derivatives`` maps
    it to ``{"expression", "value"}`` (the expression a string ``sympy.sympify`` reads
    back); ``downstream`` maps it to the gradient the node sends down to it (summed over
    its edges). Only where they apply: a node's ``kinks``, the equations where its pieces
    meet that hold here, and its ``operation`` and ``edges`` where an input fills several
    positions; ``contributions``, mapping an input that feeds several edges to what each
    sent back.
    """
    return {
        "output": report.value,
        "gradients": dict(report.gradients),
        "nodes": [
            {
                "op": node.op,
                "inputs": dict(node.inputs),
                "output": node.output,
                "forward": node.forward,
                "local_derivatives": {
                    name: {"expression": plain(expression), "value": node.local_values[name]}
                    for name, expression in node.local_derivatives.items()
                },
                "upstream": node.upstream,
                "downstream": dict(node.downstream),
                **({"kinks": [plain(where) for where in node.kinks]} if node.kinks else {}),
                **_edges(node),
            }
            for node in report.nodes
        ],
        **(
            {"contributions": {name: list(sent) for name, sent in report.contributions.items()}}
            if report.contributions
            else {}
        ),
        "notes": [str(n) for n in report.notes],
    }


def step_sweep(report: StepSweep) -> dict[str, Any]:
    """``steps --json``: per method, the absolute error at every step (null where x + h
    equals x), what dominates it there, and the best and the automatic step."""
    return {
        "layer": report.layer,
        "wrt": report.wrt,
        "quantity": report.quantity,
        "at": report.at,
        "dtype": report.dtype,
        "exact": report.exact,
        "methods": {
            curve.method: {
                "steps": list(curve.steps),
                "errors": list(curve.errors),
                "regions": list(curve.regions),
                "best_step": curve.best_step,
                "best_error": curve.best_error,
                "automatic_step": curve.automatic,
                "automatic_error": curve.automatic_error,
            }
            for curve in report.curves
        },
        "skipped": dict(report.skipped),
        "notes": [str(n) for n in report.notes],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
