"""``symgrad graph TARGET``: a computational graph, forward and backward, with numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from symgrad.cli.app import app
from symgrad.cli.options import Json
from symgrad.errors import SymgradError
from symgrad.i18n import _

FORMATS = ("text", "dot", "svg")


def _examples_table() -> None:
    from symgrad.graph.examples import EXAMPLES
    from symgrad.render import fit
    from symgrad.render.console import console

    columns = {
        "example": fit.Column(_("example"), justify="left"),
        "what it is": fit.Column(_("what it is"), justify="left", wrap=True),
        "graph": fit.Column(_("graph, at the note's numbers"), justify="left"),
        "both": fit.Column(
            _("what it is, its graph and the note's numbers"), justify="left", wrap=True
        ),
    }
    for example in EXAMPLES:
        formula = example.formula or _("the catalog's {layer}").format(layer=example.layer)
        # ", " between values: a narrow column wraps between them, never inside a number.
        values = ", ".join(f"{name}={value}" for name, value in example.values.items())
        at = _("at {values}").format(values=values)
        title = _(example.title)
        columns["example"].cells.append(f"[bold cyan]{example.name}[/]")
        columns["what it is"].cells.append(title)
        columns["graph"].cells.append(f"{formula}\n[dim]{at}[/dim]")
        columns["both"].cells.append(f"{title}\n{formula}\n[dim]{at}[/dim]")
    layouts = (
        ((None, ("example", "what it is", "graph")),),
        ((None, ("example", "both")),),
    )
    out = console()
    out.print(fit.fitted(columns, layouts))
    out.print(
        "\n"
        + _(
            "TARGET may also be a scalar catalog layer (see `symgrad list`) or an expression "
            'in quotes, e.g. "(x+y)**2" --at x=1,y=2.'
        )
    )


def _write(text: str, output: Path | None) -> None:
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise SymgradError(
            _("cannot write {output}: {reason}").format(output=output, reason=error.strerror)
        ) from None
    print(_("wrote {path}").format(path=output))


@app.command(
    short_help=_("Draw a graph's forward and backward values, node by node."),
    help=_(
        "Draw a graph's forward and backward values, node by node.\n\n"
        "TARGET is one of the note's worked examples (see --list), a catalog layer, or "
        "an expression in quotes. Without --at, a layer or an expression is drawn "
        "symbolically: every node, and on every edge the derivative it carries back. "
        "Exit status 2, with one line on stderr, for bad input."
    ),
)
def graph(
    target: Annotated[
        str | None,
        typer.Argument(
            help=_(
                "A worked example of the note (apple, apple-orange, chain, sigmoid; see"
                ' --list), a scalar catalog layer (sigmoid), or an expression ("(x+y)**2").'
            ),
            metavar="TARGET",
            show_default=False,
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="NAME=VALUE,...",
            help=_(
                "Every input's value (a worked example has the note's numbers); a bare "
                "VALUE where there is one input."
            ),
        ),
    ] = None,
    dout: Annotated[
        str, typer.Option("--dout", metavar="V", help=_("∂L/∂output, where backward starts."))
    ] = "1",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="text|dot|svg",
            help=_(
                "text (default): tables in the terminal; dot: Graphviz source; svg: a"
                " drawing in the note's style (needs Graphviz's dot)."
            ),
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help=_("Write to FILE instead of stdout.")),
    ] = None,
    json: Json = False,
    list_examples: Annotated[
        bool, typer.Option("--list", help=_("List the note's worked examples."))
    ] = False,
) -> None:
    """Draw a graph's forward and backward values, node by node."""
    if list_examples:
        _examples_table()
        return
    if target is None:
        raise SymgradError(_("give a TARGET (an example, a layer or an expression), or --list"))
    if fmt is not None and fmt not in FORMATS:
        raise SymgradError(
            _("--format {fmt}: choose one of {names}").format(
                fmt=repr(fmt), names=", ".join(FORMATS)
            )
        )
    if json and fmt not in (None, "text"):
        raise SymgradError(_("--json and --format {fmt}: choose one").format(fmt=fmt))
    from symgrad import api

    if not at and not api.has_own_values(target):
        _symbolic_graph(api.derive(target), fmt, json, output, api.draws_values(target))
        return
    report = api.graph(target, at, dout)
    if json:
        from symgrad.render import jsonout

        _write(jsonout.dumps(jsonout.backprop(report)), output)
    elif fmt in ("dot", "svg"):
        from symgrad.render import dot

        _write(_drawn(dot.backprop(report), fmt), output)
    else:
        from symgrad.render.graph_terminal import backprop

        _print(backprop(report), output)


def _symbolic_graph(
    report, fmt: str | None, json: bool, output: Path | None, with_values: bool
) -> None:
    """A graph with no numbers: every node and the local derivative on every edge, and
    (``with_values``) how to get the numbers."""
    if json:
        from symgrad.render import jsonout

        _write(jsonout.dumps(jsonout.derivation(report)), output)
    elif fmt in ("dot", "svg"):
        from symgrad.render.derivation_dot import derivation

        _write(_drawn(derivation(report), fmt), output)
    else:
        from rich.console import Group

        from symgrad.render.terminal import derivation

        example = ",".join(f"{name}=1" for name in report.inputs)
        hint = f"\nWith --at {example}, graph shows every node's values forward and backward."
        _print(Group(derivation(report), *([hint] if with_values else [])), output)


def _drawn(source: str, fmt: str) -> str:
    if fmt == "svg":
        from symgrad.render import svg

        return svg.render(source)
    return source


def _print(renderable, output: Path | None) -> None:
    from symgrad.render.console import console

    if output is None:
        console().print(renderable)
        return
    import io

    from rich.console import Console

    buffer = io.StringIO()  # plain text in a file: no colour codes, 120 columns
    Console(file=buffer, width=120, no_color=True, highlight=False).print(renderable)
    _write(buffer.getvalue(), output)
