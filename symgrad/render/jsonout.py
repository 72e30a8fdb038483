"""Reports as JSON-ready dicts, in the stable shapes documented in the README."""

from __future__ import annotations

import json
from typing import Any

from symgrad.render.mathtext import plain
from symgrad.reports import PAIRS, Comparison, Derivation


def derivation(report: Derivation) -> dict[str, Any]:
    """``derive --json``: every expression as a string ``sympy.sympify`` reads back.

    Matrix layers add ``"symbols"`` (name → shape): their strings read back with those
    names bound to ``MatrixSymbol``s.
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
            }
            for node in report.nodes
        ],
        "chain_rule": {chain.wrt: plain(chain.product) for chain in report.chains},
        "derivatives": {name: plain(value) for name, value in report.derivatives.items()},
    }
    if report.extra_derivatives:
        result["other_derivatives"] = {k: plain(v) for k, v in report.extra_derivatives.items()}
    if report.matrix:
        result["symbols"] = {name: shape.split("×") for name, shape in report.shapes.items()}
    if report.notes:
        result["notes"] = list(report.notes)
    return result


def comparison(report: Comparison) -> dict[str, Any]:
    """``compare --json``."""
    return {
        "layer": report.layer,
        "ok": report.ok,
        "shapes": {name: list(shape) for name, shape in report.shapes.items()},
        "dtype": report.dtype,
        "seed": report.seed,
        "step": report.step,
        "gradients": [
            {
                "name": check.name,
                "shape": list(check.shape),
                "ok": check.ok,
                "tolerance": {pair: check.tolerance[pair] for pair in PAIRS},
                "errors": {pair: check.errors[pair] for pair in PAIRS},
                "relative_error": check.relative_error,
            }
            for check in report.gradients
        ],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
