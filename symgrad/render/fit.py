"""Tables that fit the console: the same cells, laid out as wide as the width allows.

Rich shrinks a table that is too wide by cutting its cells with an ellipsis, which in a
table of numbers means a cut number. Instead, a table here is described once, as named
columns, together with its layouts from widest to narrowest (one table; then some
columns moved to a second table; ...); the first layout whose widest rendering fits the
width is drawn, and the narrowest one is drawn when none does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNLIMITED = 10_000  # columns: wider than any table here

# A layout: its tables, each a title (or None) and the titles of its columns in order.
Layout = Sequence[tuple[str | None, Sequence[str]]]


@dataclass
class Column:
    """One column's title and cells. A number column never wraps (a number is one
    word, and cutting it would change it); a text column wraps at spaces."""

    title: str
    cells: list[RenderableType] = field(default_factory=list)
    justify: str = "right"
    wrap: bool = False


def table() -> Table:
    """The one table style every command uses: a rule under the header, no frame."""
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def build(columns: dict[str, Column], layout: Layout) -> Group:
    """The tables of one layout, each with the named columns' cells."""
    tables: list[RenderableType] = []
    for title, names in layout:
        drawn = table()
        for name in names:
            column = columns[name]
            drawn.add_column(column.title, justify=column.justify, no_wrap=not column.wrap)
        rows = len(columns[names[0]].cells)
        for row in range(rows):
            drawn.add_row(*(columns[name].cells[row] for name in names))
        # The title above the table, not in it: a narrow table would wrap it to its width.
        tables.append(drawn if title is None else Group(Title(title), drawn))
    return spaced(tables)


def spaced(parts: Sequence[RenderableType]) -> Group:
    """``parts`` one below the other, a blank line between each two."""
    lines: list[RenderableType] = []
    for k, part in enumerate(parts):
        if k:
            lines.append(Text())
        lines.append(part)
    return Group(*lines)


class Title:
    """A line above a table that wraps to the console and never widens the layout."""

    def __init__(self, text: str) -> None:
        self.text = Text(text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(0, 0)


class FirstFit:
    """The first renderable whose widest rendering fits the width, else the last one."""

    def __init__(self, *layouts: RenderableType) -> None:
        self.layouts = layouts

    def _choose(self, console: Console, options: ConsoleOptions) -> RenderableType:
        # Measured without a limit: Rich clamps a measurement to the width it is given.
        unlimited = options.update_width(UNLIMITED)
        for layout in self.layouts[:-1]:
            if Measurement.get(console, unlimited, layout).maximum <= options.max_width:
                return layout
        return self.layouts[-1]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._choose(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._choose(console, options))


def fitted(
    columns: dict[str, Column], layouts: Sequence[Layout], last: RenderableType | None = None
) -> FirstFit:
    """``columns`` drawn in the first of ``layouts`` that fits; ``last``, when given, is
    the fallback below the narrowest layout (e.g. the same facts as wrapped sentences).

    A layout may name columns this table does not have (no symbolic column for a user's
    layer, no kinks): they are left out, and so is a table left with its key alone.
    """
    kept: list[list[tuple[str | None, list[str]]]] = []
    for layout in layouts:
        tables = [(title, [n for n in names if n in columns]) for title, names in layout]
        tables = [(title, names) for title, names in tables if len(names) > 1]
        if tables not in kept:
            kept.append(tables)
    drawn = [build(columns, layout) for layout in kept]
    return FirstFit(*drawn, *([last] if last is not None else []))
