"""Any report as the terminal draws it: the renderable ``rich.print(report)`` prints, and
the same as plain text, which is what ``str(report)`` returns.

Each report type is drawn by its own renderer (symgrad.render.terminal for derivations,
comparisons and step sweeps, graph_terminal for a graph's values, checking for a check);
this module only picks it, so that every report prints the way its command does.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, RenderableType

WIDTH = 80  # what a terminal shows by default; every command's output fits it


def renderable(report: Any) -> RenderableType:
    """The rich renderable of ``report``, as its command prints it by default."""
    from symgrad.checking.report import LayerCheck, NetworkCheck
    from symgrad.render import checking, graph_terminal, terminal
    from symgrad.reports import Backprop, Comparison, Derivation, SecondDerivation, StepSweep

    draw = {
        Derivation: terminal.derivation,
        SecondDerivation: terminal.second_derivation,
        Comparison: terminal.comparison,
        StepSweep: terminal.step_sweep,
        Backprop: graph_terminal.backprop,
        LayerCheck: checking.render,
        NetworkCheck: checking.render,
    }
    return draw[type(report)](report)


def plain(report: Any, width: int = WIDTH) -> str:
    """``report`` as plain text (no colour) at ``width`` columns."""
    buffer = io.StringIO()
    # force_jupyter=False: in a notebook Rich would display the text instead of returning it.
    console = Console(
        file=buffer, width=width, color_system=None, highlight=False, force_jupyter=False
    )
    console.print(renderable(report))
    # Rich pads every line of a table to the console's width: noise outside a terminal.
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())
