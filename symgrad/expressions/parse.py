"""Safe parsing of a user's expression into SymPy, without ``eval``.

The text may one day come from a web form, so it never reaches Python's ``eval`` or
``sympy.sympify``/``parse_expr`` (both evaluate Python code). Python's own parser
(:func:`ast.parse`) only *reads* the text into a syntax tree; the tree is then walked with a
whitelist (numbers, names, + − × / **, unary ±, calls of a fixed list of functions, and a
comparison as ``where``'s first argument) and the SymPy objects are built here, one by
one. Anything else is refused with a :class:`~symgrad.errors.SymgradError` naming what was
refused; nothing is ever executed.

The user's tree is kept as written (``(apple*apple_num)*tax`` stays two products in that
order, ``x*x`` stays a product) because the graph draws one node per operation typed.
Only sub-expressions made of numbers alone are computed, into one number.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from collections.abc import Callable

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from symgrad.errors import SymgradError
from symgrad.expressions.functions import (
    Absolute,
    Maximum,
    Minimum,
    elu,
    gelu,
    leaky_relu,
    relu,
    sigmoid,
    softplus,
)
from symgrad.i18n import _, ngettext

MAX_LENGTH = 500  # characters; longer text is refused before it is parsed
MAX_DEPTH = 60  # nesting of operations in the syntax tree
MAX_EXPONENT = 100  # |n| in x**n: SymPy expands powers when it tidies derivatives
MAX_MAGNITUDE = 1e300  # a number computed from numbers alone must stay a finite float64

FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "erf": sp.erf,
    "log1p": log1p,
    "expm1": expm1,
    "abs": Absolute,
    "max": Maximum,
    "min": Minimum,
    "sigmoid": sigmoid,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
    "gelu": gelu,
}
# How many arguments a function takes where not one, and which of them must be numbers
# (leaky ReLU's slope α is a constant of the layer, never an input).
ARGUMENTS: dict[str, int] = {"max": 2, "min": 2, "leaky_relu": 2, "where": 3}
NUMBER_ARGUMENTS: dict[str, tuple[int, ...]] = {"leaky_relu": (1,)}
WHERE = "where"  # where(condition, a, b): a where the condition holds, else b
COMPARISONS: dict[type[ast.cmpop], Callable[[sp.Expr, sp.Expr], sp.Basic]] = {
    ast.Lt: sp.StrictLessThan,
    ast.LtE: sp.LessThan,
    ast.Gt: sp.StrictGreaterThan,
    ast.GtE: sp.GreaterThan,
}

ALLOWED = (
    f"numbers, names, + - * / **, {', '.join(FUNCTIONS)}, and where(x > 0, a, b) "
    "(comparisons only there)"
)

# What a refused syntax node is called in the error message.
REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "subscripts ('[...]')",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "a comparison outside where(condition, a, b)",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if ... else'",
    ast.NamedExpr: "assignment (':=')",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples (a ',' outside a function call)",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Starred: "'*' unpacking",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
}

OPERATORS: dict[type[ast.operator], str] = {
    ast.FloorDiv: "'//'",
    ast.Mod: "'%'",
    ast.MatMult: "'@'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.BitOr: "'|'",
    ast.BitAnd: "'&'",
    ast.BitXor: "'^' (for a power write x**2)",
}


def excerpt(text: str, limit: int = 60) -> str:
    """The text quoted on one line, shortened: error messages must stay one line."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(shown if len(shown) <= limit else shown[: limit - 1] + "…")


def parse_expression(text: str) -> sp.Expr:
    """The SymPy expression for ``text``, built without evaluating any Python code.

    Names become real :class:`sympy.Symbol` objects; ``sigmoid`` and ``relu`` are the
    catalog's functions (one node each); every other function is SymPy's.

    Raises:
        SymgradError: for anything outside the whitelist, too long or too deeply nested
            input, a huge exponent, or numbers alone that are not a finite real number.
    """
    if not isinstance(text, str):
        raise SymgradError(_("an expression must be text"))
    if len(text) > MAX_LENGTH:
        raise SymgradError(
            _("expression too long: {count} characters (at most {limit})").format(
                count=len(text), limit=MAX_LENGTH
            )
        )
    source = text.strip()
    if not source:
        raise SymgradError(_("empty expression"))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:  # includes too many nested parentheses
        raise SymgradError(
            _("cannot parse {source}: {reason}").format(source=excerpt(source), reason=error.msg)
        ) from None
    except (ValueError, RecursionError, MemoryError):  # null bytes, pathological nesting
        raise SymgradError(
            _("cannot parse {source}: malformed or too deeply nested").format(
                source=excerpt(source)
            )
        ) from None
    try:
        return _build(tree.body, 0)
    except RecursionError:  # SymPy itself recursing on a pathological tree
        raise SymgradError(
            _("expression too deeply nested: {source}").format(source=excerpt(source))
        ) from None


def typed_inputs(text: str, expr: sp.Expr) -> tuple[sp.Symbol, ...]:
    """The variables ``text`` names, sorted by name, including those SymPy cancelled when
    it built ``expr`` (``0*x`` is 0, ``x - x + y`` is y): what the user typed is an input
    they may give a value and ask a derivative of (which is then 0)."""
    tree = ast.parse(text.strip(), mode="eval")  # parse_expression has accepted it
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = {
        _name(node.id)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called
    }
    return tuple(sorted(names | expr.free_symbols, key=str))


def _refuse(what: str) -> SymgradError:
    return SymgradError(
        _("not allowed in an expression: {what} (use only {allowed})").format(
            what=what, allowed=ALLOWED
        )
    )


def _build(node: ast.AST, depth: int) -> sp.Expr:
    """The SymPy object for one whitelisted syntax node (children first, depth-limited)."""
    if depth > MAX_DEPTH:
        raise SymgradError(
            _("expression too deeply nested (more than {limit} levels)").format(limit=MAX_DEPTH)
        )
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.Name):
        return _name(node.id)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.UAdd):
            return _build(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return _mul(sp.Integer(-1), _build(node.operand, depth + 1))
        word = "'not'" if isinstance(node.op, ast.Not) else "'~'"
        raise _refuse(word)
    if isinstance(node, ast.BinOp):
        return _binary(node, depth)
    if isinstance(node, ast.Call):
        return _call(node, depth)
    raise _refuse(REFUSED.get(type(node), type(node).__name__))


def _literal(value: object) -> sp.Expr:
    # bool is an int subclass: True + 1 must not be 2 here.
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise _refuse(repr(value))
    if isinstance(value, int):
        return _number(sp.Integer(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SymgradError(_("number out of range: {value}").format(value=repr(value)))
        return _number(sp.Float(value))
    if isinstance(value, complex):
        raise SymgradError(_("complex numbers are not supported: every value is real"))
    raise _refuse("strings" if isinstance(value, str | bytes) else type(value).__name__)


# Scripts whose letters look alike: a name mixing them (Latin x beside a Cyrillic х) reads
# as one thing and is another, so it is refused; any one script alone is a fine name.
CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
MAX_NAME = 32


def _scripts(name: str) -> set[str]:
    return {
        script
        for character in name
        if character.isalpha()
        for script in CONFUSABLE_SCRIPTS
        if unicodedata.name(character, "").startswith(script)
    }


def _name(name: str) -> sp.Symbol:
    """A variable: any identifier Python accepts (the note's 苹果 and 消费税 included,
    already NFKC-normalised by Python's parser), but no leading underscore (no dunders),
    at most 32 characters, and no look-alike letters of two scripts mixed."""
    if name in FUNCTIONS or name == WHERE:
        raise SymgradError(_("'{name}' is a function: call it, as in {name}(x)").format(name=name))
    name = unicodedata.normalize("NFKC", name)
    if not name.isidentifier() or name.startswith("_") or len(name) > MAX_NAME:
        raise SymgradError(
            _(
                "name {name} not allowed: use a letter, then letters, digits or '_' (at most "
                "{limit} characters)"
            ).format(name=excerpt(name), limit=MAX_NAME)
        )
    mixed = _scripts(name)
    if len(mixed) > 1:
        raise SymgradError(
            _(
                "name {name} mixes {scripts} letters, which look alike: write it in one script"
            ).format(name=excerpt(name), scripts=" and ".join(sorted(s.title() for s in mixed)))
        )
    return sp.Symbol(name, real=True)


def _number(value: sp.Expr) -> sp.Expr:
    """A constant sub-expression as one number: exact if rational, else a Float.

    exp(2) becomes 7.389…: the graph draws numbers as labels, never as nodes.
    """
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise SymgradError(_("numbers alone give no finite value here (division by zero?)"))
    if value.is_extended_real is False:
        raise SymgradError(_("{value} is not a real number").format(value=value))
    if not value.is_Rational:
        value = value.evalf()
        if not value.is_Float:
            raise SymgradError(_("{value} is not a real number").format(value=value))
    if abs(float(value)) > MAX_MAGNITUDE:
        raise SymgradError(_("a number in the expression is too large"))
    return value


def _constant(expr: sp.Expr) -> bool:
    return expr.is_Number


def _add(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a + b, kept unevaluated; a number goes first so the graph draws it as a '+c' node."""
    if _constant(a) and _constant(b):
        return _number(a + b)
    if _constant(b):
        a, b = b, a
    if _constant(a):
        coefficient, rest = b.as_coeff_Add()
        total = _number(a + coefficient)
        return rest if total == 0 else sp.Add(total, rest, evaluate=False)
    return sp.Add(a, b, evaluate=False)


def _mul(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a·b, kept unevaluated; a number goes first so the graph draws it as a '×c' node."""
    if _constant(a) and _constant(b):
        return _number(a * b)
    if _constant(b):
        a, b = b, a
    if _constant(a):
        if a == 0:
            return sp.Integer(0)
        coefficient, rest = b.as_coeff_Mul()
        total = _number(a * coefficient)
        return rest if total == 1 else sp.Mul(total, rest, evaluate=False)
    return sp.Mul(a, b, evaluate=False)


def _pow(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if _constant(exponent) and abs(exponent) > MAX_EXPONENT:
        raise SymgradError(
            _("exponent {exponent} too large (at most {limit} in size)").format(
                exponent=exponent, limit=MAX_EXPONENT
            )
        )
    if _constant(base) and _constant(exponent):
        # Estimate the size before computing: 10**300 is fine, (10**100)**100 is not.
        if base != 0 and float(abs(exponent)) * math.log10(float(abs(base))) > 300:
            raise SymgradError(_("a number in the expression is too large"))
        return _number(sp.Pow(base, exponent))
    if exponent == 1:
        return base
    if exponent == 0:
        return sp.Integer(1)
    return sp.Pow(base, exponent, evaluate=False)


def _binary(node: ast.BinOp, depth: int) -> sp.Expr:
    kind = type(node.op)
    if kind in OPERATORS:
        raise _refuse(OPERATORS[kind])
    a, b = _build(node.left, depth + 1), _build(node.right, depth + 1)
    if kind is ast.Add:
        return _add(a, b)
    if kind is ast.Sub:
        return _add(a, _mul(sp.Integer(-1), b))
    if kind is ast.Mult:
        return _mul(a, b)
    if kind is ast.Div:
        if b == 0:
            raise SymgradError(_("division by zero in the expression"))
        if _constant(b):
            return _mul(_number(1 / b), a)
        reciprocal = _pow(b, sp.Integer(-1))  # the note's 1/x node
        return reciprocal if a == 1 else _mul(a, reciprocal)
    if kind is ast.Pow:
        return _pow(a, b)
    raise _refuse(kind.__name__)


def _call(node: ast.Call, depth: int) -> sp.Expr:
    # The callee is checked before anything else is looked at: only a bare whitelisted name.
    if not isinstance(node.func, ast.Name):
        raise _refuse(REFUSED.get(type(node.func), "calling anything but a function's name"))
    name = node.func.id
    if name not in FUNCTIONS and name != WHERE:
        raise _refuse(f"calling {excerpt(name)}")
    if node.keywords:
        raise _refuse("keyword arguments")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise _refuse("'*' unpacking")
    expected = ARGUMENTS.get(name, 1)
    if len(node.args) != expected:
        raise SymgradError(
            ngettext(
                "{name}() takes exactly {expected} argument ({count} given)",
                "{name}() takes exactly {expected} arguments ({count} given)",
                expected,
            ).format(name=name, expected=expected, count=len(node.args))
        )
    if name == WHERE:
        return _where(node, depth)
    arguments = [_build(arg, depth + 1) for arg in node.args]
    for position in NUMBER_ARGUMENTS.get(name, ()):
        if not _constant(arguments[position]):
            raise SymgradError(
                _("{name}()'s argument {position} must be a number, as in {example}").format(
                    name=name, position=position + 1, example="leaky_relu(x, 0.01)"
                )
            )
    function = FUNCTIONS[name]
    if all(_constant(argument) for argument in arguments):
        return _number(function(*arguments))
    # evaluate=False keeps exp(log(x)) as two nodes instead of SymPy's x.
    return function(*arguments, evaluate=False)


def _where(node: ast.Call, depth: int) -> sp.Expr:
    """where(condition, a, b): a where the condition holds, else b, as one Piecewise."""
    test, *branches = node.args
    if not isinstance(test, ast.Compare):
        raise SymgradError(
            _("where()'s first argument must be a comparison, as in where(x > 0, x, 0)")
        )
    if len(test.ops) != 1 or type(test.ops[0]) not in COMPARISONS:
        raise SymgradError(
            _("where() takes one comparison with <, <=, > or >=, as in where(x > 0, x, 0)")
        )
    compare = COMPARISONS[type(test.ops[0])]
    condition = compare(_build(test.left, depth + 1), _build(test.comparators[0], depth + 1))
    if condition in (sp.true, sp.false):  # numbers alone: the branch is known
        return _build(branches[0 if condition else 1], depth + 1)
    chosen, otherwise = (_build(branch, depth + 1) for branch in branches)
    return sp.Piecewise((chosen, condition), (otherwise, True))


__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "parse_expression",
    "typed_inputs",
]
