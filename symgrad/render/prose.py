"""Sentences that wrap as their language does: Chinese breaks between characters.

Rich breaks a line only at spaces, so a Chinese sentence, which has none between its
words, wraps as a few long "words": a line ends early at the last space, and a clause
wider than a table cell is cut off with an ellipsis. :class:`Prose` is a rich ``Text``
that may also break next to any wide (CJK) character, except before closing punctuation
(，。）…) and after opening punctuation (（“…), the rule Chinese typesetting follows. Text
with no wide character wraps exactly as rich wraps it, so English output is unchanged.
"""

from __future__ import annotations

import itertools
import unicodedata
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.measure import Measurement
from rich.text import Lines, Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, OverflowMethod

# A line never starts with these (they close what precedes them) ...
NO_START = frozenset("，。、；：！？）」』”’》〉…—,.;:!?)]}%")
# ... and never ends with these (they open what follows).
NO_END = frozenset("（「『“‘《〈([{")


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in "WF"


def _has_wide(text: str) -> bool:
    return any(_wide(c) for c in text)


def break_points(text: str) -> list[int]:
    """The offsets in ``text`` (one line) where a new line may begin: after a run of
    spaces, and beside a wide character where the punctuation allows it."""
    points = []
    for k in range(1, len(text)):
        before, after = text[k - 1], text[k]
        if after.isspace():
            continue
        if before.isspace() or (
            (_wide(before) or _wide(after)) and after not in NO_START and before not in NO_END
        ):
            points.append(k)
    return points


def divide(text: str, width: int) -> list[int]:
    """Where to break ``text`` (one line) so that each line fits ``width`` cells: as late
    as a break point allows, and inside a piece that is wider than a whole line."""
    cuts: list[int] = []
    start = 0
    fitting = None  # the last break point after start whose line fits
    for point in [*break_points(text), len(text)]:
        while cell_len(text[start:point].rstrip()) > width:
            if fitting is not None:
                cuts.append(fitting)
                start, fitting = fitting, None
                continue
            # One piece wider than a line: fold it where the cells run out.
            end = start + 1
            while end < point and cell_len(text[start : end + 1]) <= width:
                end += 1
            cuts.append(end)
            start = end
        fitting = point if point < len(text) else None
    return cuts


class Prose(Text):
    """A rich ``Text`` that wraps Chinese between characters (see the module's note).

    ``hanging`` indents every line after the first by that many cells, so that a wrapped
    note or formula stays to the right of its label ("note: …", "∂y/∂x = …") rather than
    running back to the margin.
    """

    hanging: int = 0

    def wrap(
        self,
        console: Console,
        width: int,
        *,
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        tab_size: int = 8,
        no_wrap: bool | None = None,
    ) -> Lines:
        options = dict(justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap)
        lines = self._wrap_lines(console, width, options)
        if not self.hanging or len(lines) < 2 or width <= 2 * self.hanging:
            return lines
        first = lines[0]
        rest = self[len(first.plain) :]
        rest = rest[len(rest.plain) - len(rest.plain.lstrip()) :]
        indented = Prose()
        indented.append_text(rest)
        body = indented._wrap_lines(console, width - self.hanging, options)
        return Lines([first, *(Text(" " * self.hanging) + line for line in body)])

    def _wrap_lines(self, console: Console, width: int, options: dict) -> Lines:
        """Rich's wrapping, or for text with wide characters the breaks of :func:`divide`."""
        justify, overflow, no_wrap = options["justify"], options["overflow"], options["no_wrap"]
        if no_wrap or self.no_wrap or not _has_wide(self.plain):
            return super().wrap(console, width, **options)
        lines = Lines()
        for line in self.split(allow_blank=True):
            pieces = line.divide(divide(line.plain, width))
            for piece in pieces:
                piece.rstrip()
            lines.extend(pieces)
        chosen = justify or self.justify
        if chosen and chosen != "default":
            lines.justify(console, width, justify=chosen, overflow=overflow or "fold")
        return lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        measured = super().__rich_measure__(console, options)
        if not _has_wide(self.plain):
            return measured
        narrowest = 1
        for line in self.plain.splitlines():
            edges = [0, *break_points(line), len(line)]
            pieces = (line[a:b].rstrip() for a, b in itertools.pairwise(edges))
            narrowest = max(narrowest, *(cell_len(p) for p in pieces))
        return Measurement(narrowest, measured.maximum)


def labelled(label: str, text: object, style: str = "") -> Prose:
    """``label`` then ``text``, wrapped with its continuation lines under the text."""
    line = Prose(f"{label}{text}", style=style)
    line.hanging = cell_len(label)
    return line


def note(text: object, style: str = "dim", margin: str = "") -> Prose:
    """One "note: …" line, its continuation lines under the note's first word."""
    from symgrad.i18n import _

    template = _("note: {note}")
    return labelled(margin + template.partition("{note}")[0], text, style=style)


def prose(text: str | Text, style: str = "") -> Prose:
    """``text`` (a string, or a rich ``Text`` with its styles) as :class:`Prose`."""
    if isinstance(text, str):
        return Prose(text, style=style)
    wrapped = Prose(text.plain, style=style or text.style, justify=text.justify)
    wrapped.spans = list(text.spans)
    return wrapped
