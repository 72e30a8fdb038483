"""The note's worked examples, by name: the shopping problems, the chain rule, sigmoid.

Each is written down once, as the formula the note draws (parsed by the safe parser, which
keeps the tree as written, so the nodes come out in the figure's order) or as a catalog
layer, together with the note's numbers. Importing this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad.i18n import N_


@dataclass(frozen=True)
class Example:
    """A worked example of the note.

    Attributes:
        name: what ``symgrad graph NAME`` accepts.
        title: the note's problem, in a line (English, translated where shown; the
            examples with the note's Chinese names have Chinese titles).
        values: the note's numbers, as ``--at`` would give them (``--at`` overrides them).
        formula: the expression as the note draws it; or, instead,
        layer: a catalog layer whose SymPy forward is the graph (sigmoid's four nodes).
        output: the name of the graph's output.
    """

    name: str
    title: str
    values: dict[str, str] = field(default_factory=dict)
    formula: str | None = None
    layer: str | None = None
    output: str = "z"


EXAMPLES: tuple[Example, ...] = (
    Example(
        name="apple",
        title=N_("2 apples at 100 yen, 10% consumption tax (the note's problem 1)"),
        values={"apple": "100", "apple_num": "2", "tax": "1.1"},
        formula="(apple*apple_num)*tax",
        output="price",
    ),
    Example(
        name="apple-orange",
        title=N_("2 apples at 100 yen, 3 oranges at 150, 10% tax (problem 2)"),
        values={
            "apple": "100",
            "apple_num": "2",
            "orange": "150",
            "orange_num": "3",
            "tax": "1.1",
        },
        formula="(apple*apple_num + orange*orange_num)*tax",
        output="price",
    ),
    # The same two problems with the note's own Chinese names, as its readers type them.
    Example(
        name="苹果",
        title="买 2 个每个 100 日元的苹果，消费税 10%（笔记的问题 1）",
        values={"苹果": "100", "苹果个数": "2", "消费税": "1.1"},
        formula="(苹果*苹果个数)*消费税",
        output="支付金额",
    ),
    Example(
        name="苹果橘子",
        title="买 2 个苹果（每个 100 日元）和 3 个橘子（每个 150 日元），消费税 10%（问题 2）",
        values={
            "苹果": "100",
            "苹果个数": "2",
            "橘子": "150",
            "橘子个数": "3",
            "消费税": "1.1",
        },
        formula="(苹果*苹果个数 + 橘子*橘子个数)*消费税",
        output="支付金额",
    ),
    Example(
        name="chain",
        title=N_("the chain rule: z = t², t = x + y, ∂z/∂x = 2t·1"),
        values={"x": "1", "y": "2"},
        formula="(x + y)**2",
    ),
    # At x = 1 every node but +1 changes the gradient it passes on (at x = 0, exp's local
    # derivative is 1 and three edges carry the same −0.25).
    Example(
        name="sigmoid",
        title=N_("sigmoid node by node: ×(−1), exp, +1, / (−y² at the last)"),
        values={"x": "1"},
        layer="sigmoid",
        output="y",
    ),
    Example(
        name="relu",
        title=N_("relu at a negative input: the gradient stops (0 is sent back)"),
        values={"x": "-1"},
        layer="relu",
        output="y",
    ),
)
