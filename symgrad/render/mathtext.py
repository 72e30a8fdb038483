"""SymPy expressions as text: one-line Unicode for people, plain strings for machines.

Both print a sum with its positive terms first, so y − t reads as the note writes it
rather than SymPy's canonical −t + y.
"""

from __future__ import annotations

import re

import mpmath.libmp as mlib
import sympy as sp
from sympy.printing.latex import LatexPrinter, greek_letters_set
from sympy.printing.str import StrPrinter

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
LETTER_SUBSCRIPTS = {"i": "ᵢ", "j": "ⱼ", "k": "ₖ", "n": "ₙ"}
FLOAT64_BITS = 53
# A letter named with its accent, as SymPy's printers read it: xhat is x̂, dxbar is dx̄.
ACCENTS = {"hat": "\u0302", "bar": "\u0304"}
ACCENTED = re.compile(r"(?<![A-Za-z])(d?)([A-Za-z])(hat|bar)(?![a-z])")


class _PositiveFirst:
    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda term: term.could_extract_minus_sign())


class _WholeFloats:
    """For people: a float that is a whole number is written as one, so that 0.5·(2y − 2t)
    reads y − t, not 1.0·y − 1.0·t (the machine form keeps the float)."""

    def doprint(self, expr):
        if isinstance(expr, sp.Basic):
            whole = {f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()}
            expr = expr.xreplace(whole) if whole else expr
        return super().doprint(expr)


class PlainPrinter(_PositiveFirst, StrPrinter):
    """SymPy's own string form (``sympify`` reads it back), positive terms first; a float
    constant prints with every digit it has (0.1, 0.30000000000000004), never cut to 15."""

    def _print_Float(self, expr):
        if expr._prec <= FLOAT64_BITS:  # what sympify makes of a decimal: repr round-trips
            return repr(float(expr))
        return mlib.to_str(expr._mpf_, mlib.prec_to_dps(expr._prec) + 2)

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        return f"OneMatrix({self._print(rows)}, {self._print(cols)})"


def _is_word(symbol: sp.Basic) -> bool:
    """A name of several letters that is not a Greek letter: apple, tax, price, dout."""
    if not isinstance(symbol, sp.Symbol):
        return False
    base = symbol.name.partition("_")[0]
    return len(base) > 1 and base.isalpha() and base.lower() not in greek_letters_set


class TeXPrinter(_WholeFloats, _PositiveFirst, LatexPrinter):
    """LaTeX, positive terms first; the ones-column prints as 𝟙; a name of several letters
    is one italic word, and a product with one is written with a dot (tax·apple, never
    the five letters t·a·x·a·p… that juxtaposition would read as)."""

    def _print_Symbol(self, expr, style="plain"):
        if not _is_word(expr):
            return super()._print_Symbol(expr, style)
        base, _, sub = expr.name.partition("_")
        return rf"\mathit{{{base}}}" + (rf"_{{\mathit{{{sub}}}}}" if sub else "")

    def _print_Mul(self, expr):
        if not any(_is_word(factor) for factor in expr.args):
            return super()._print_Mul(expr)
        juxtaposed = self._settings["mul_symbol_latex"]
        self._settings["mul_symbol_latex"] = r" \cdot "
        try:
            return super()._print_Mul(expr)
        finally:
            self._settings["mul_symbol_latex"] = juxtaposed

    def _print_OneMatrix(self, expr):
        return r"\mathbb{1}"

    def _print_MatrixSymbol(self, expr):
        # An upstream gradient dY prints as d Y with an upright d, so that dY·Wᵀ does not
        # read as the product d·Y·Wᵀ.
        name = expr.name
        if len(name) > 1 and name[0] == "d" and name[1:].isalpha() and name[1].isupper():
            return rf"\mathrm{{d}}{self._print(sp.Symbol(name[1:]))}"
        return super()._print_MatrixSymbol(expr)


class _UnicodeBase(_WholeFloats, PlainPrinter):
    """The plain form with the few symbols that regular expressions cannot fix later: 𝟙,
    Σ and √."""

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent in (sp.S.Half, -sp.S.Half):
            inner = self._print(base)
            root = "√" + (inner if base.is_Atom else f"({inner})")
            return root if exponent == sp.S.Half else f"1/{root}"
        return super()._print_Pow(expr, rational)

    def _print_OneMatrix(self, expr):
        return "𝟙"

    def _print(self, expr, **kwargs):
        # Indexed prints itself (its _sympystr) before a printer's method is looked up.
        if isinstance(expr, sp.Indexed):
            return self._print_Indexed(expr)
        return super()._print(expr, **kwargs)

    def _print_Indexed(self, expr):
        return f"{expr.base}_{'_'.join(map(str, expr.indices))}"  # x[i] → xᵢ

    def _print_KroneckerDelta(self, expr):
        return "δ_" + "".join(map(str, expr.args))  # δᵢⱼ below

    def _print_Piecewise(self, expr):
        # Inside a formula (a top-level one reads "… where …, … otherwise"). In an indexed
        # sum (a convolution's) a value that is 0 unless its index condition holds reads
        # value·[condition], Iverson's bracket; elsewhere the pieces are one factor, in
        # words: y·(1 where x > 0, 0 otherwise).
        if len(expr.args) == 2 and expr.args[1] == (0, sp.true) and expr.has(sp.Indexed):
            value, condition = expr.args[0]
            parts = condition.args if isinstance(condition, sp.And) else (condition,)
            return f"{self.parenthesize(value, 50)}·[{', '.join(map(self._print, parts))}]"
        return f"({_piecewise(expr)})"

    def _print_Sum(self, expr):
        indices = [str(index) for index, *_ in expr.limits]
        # Σₖ for one index, Σ_{c,p,q} for several (an indexed layer's sums).
        index = indices[0] if len(indices) == 1 else "{" + ",".join(indices) + "}"
        body = self._print(expr.function)
        # A sum of terms is summed whole: Σₖ (tₖ·log(yₖ) + …), never Σₖ tₖ·log(yₖ) + ….
        return f"Σ_{index} ({body})" if isinstance(expr.function, sp.Add) else f"Σ_{index} {body}"


def plain(expr) -> str:
    """The machine form: ``y*(1 - y)``, ``-y**2``, ``dY*W.T``."""
    return PlainPrinter().doprint(expr)


def latex(expr) -> str:
    return TeXPrinter().doprint(expr)


def _subscripts(letters: str) -> str:
    return "".join(LETTER_SUBSCRIPTS[letter] for letter in letters)


def _superscript(match: re.Match) -> str:
    return (match.group(1) or match.group(2)).translate(SUPERSCRIPTS)


def _piecewise(expr: sp.Piecewise) -> str:
    from symgrad.i18n import _

    pieces = []
    for value, condition in expr.args:
        pieces.append(
            _("{value} otherwise").format(value=pretty(value))
            if condition == sp.true
            else _("{value} where {condition}").format(
                value=pretty(value), condition=pretty(condition)
            )
        )
    return _(", ").join(pieces)


_MARKS = "₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₙ⁰¹²³⁴⁵⁶⁷⁸⁹⁻"


def _juxtaposed(match: re.Match) -> str:
    """``y*(…)`` is written y(…), but a longer name keeps its dot: tax(…) would read as a
    function applied, so it stays tax·(…)."""
    before = match.group(1)
    base = before.rstrip(_MARKS)  # xᵢ, t₁, y² are one letter
    single = before == ")" or before.isdigit() or len(base) == 1
    return before if single else before + "·"


def pretty(expr) -> str:
    """One-line Unicode with the note's symbols: ``y(1 − y)``, ``−y²``, ``dY·Wᵀ``, ``t₁``."""
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr)
    text = expr if isinstance(expr, str) else _UnicodeBase().doprint(expr)
    text = ACCENTED.sub(lambda m: m[1] + m[2] + ACCENTS[m[3]], text)  # xhat -> x̂
    # x**2 -> x², x**(-1) -> x⁻¹; a fractional power keeps a caret: x**0.5 -> x^0.5
    text = re.sub(r"\*\*(?:(-?[0-9]+)|\((-[0-9]+)\))(?![0-9.])", _superscript, text)
    text = text.replace("**", "^").replace(".T", "ᵀ")
    text = re.sub(r"(?<=[A-Za-z])([0-9]+)", lambda m: m.group(1).translate(SUBSCRIPTS), text)
    # y_i² as well as y_i: a superscript digit is a word character to \b
    text = re.sub(r"_([ijkn])(?![A-Za-z0-9_])", lambda m: LETTER_SUBSCRIPTS[m.group(1)], text)
    text = re.sub(r"δ_([ijkn]{2})", lambda m: "δ" + _subscripts(m.group(1)), text)  # δᵢⱼ
    text = re.sub(r"(?<![\w.√])([0-9]+)\*(?=[A-Za-z(√])", r"\1", text)  # 2*t -> 2t, √2·x stays
    text = re.sub(r"(\w+|\))\*(?=\()", _juxtaposed, text)  # y*(1 - y) -> y(1 - y)
    return text.replace("*", "·").replace("-", "−").replace(">=", "≥").replace("<=", "≤")
