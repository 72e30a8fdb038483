"""SymPy expressions as text: one-line Unicode for people, plain strings for machines.

Both print a sum with its positive terms first, so y − t reads as the note writes it
rather than SymPy's canonical −t + y.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

import mpmath.libmp as mlib
import sympy as sp
from sympy.core.mul import _keep_coeff
from sympy.printing.latex import LatexPrinter, greek_letters_set
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pretty.pretty_symbology import greek_unicode
from sympy.printing.str import StrPrinter

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
LETTER_SUBSCRIPTS = {"i": "ᵢ", "j": "ⱼ", "k": "ₖ", "n": "ₙ"}
FLOAT64_BITS = 53
# A letter named with its accent, as SymPy's printers read it: xhat is x̂, dxbar is dx̄.
ACCENTS = {"hat": "\u0302", "bar": "\u0304"}
MINUS = "−"
# What follows a letter without making it a longer name: xᵢ², t₁ and x̂ are one letter.
MARKS = "₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₙ⁰¹²³⁴⁵⁶⁷⁸⁹⁻" + "".join(ACCENTS.values())


class _PositiveFirst:
    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda term: term.could_extract_minus_sign())


class _WholeFloats:
    """For people: a float that is a whole number is written as one, so that 0.5·(2y − 2t)
    reads y − t, not 1.0·y − 1.0·t (the machine form keeps the float)."""

    def doprint(self, expr):
        return super().doprint(_whole_floats(expr))


def _whole_floats(expr):
    if not isinstance(expr, sp.Basic):
        return expr
    whole = {f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()}
    return expr.xreplace(whole) if whole else expr


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


class UnicodePrinter(_WholeFloats, PlainPrinter):
    """One-line Unicode with the note's symbols, one ``_print_<Class>`` method per rule:
    x², x⁻¹, t₁, x̂, π, xᵢ and x[n, c, i·s + p − pad], δᵢⱼ, 2t and y(1 − y), Wᵀ, −, ≥,
    max, Σₖ, 𝟙 and the Piecewise in words."""

    _relationals: ClassVar[dict[str, str]] = {">=": "≥", "<=": "≤"}

    def _print(self, expr, **kwargs):
        # Indexed prints itself (its _sympystr) before a printer's method is looked up.
        if isinstance(expr, sp.Indexed):
            return self._print_Indexed(expr)
        return super()._print(expr, **kwargs)

    # Numbers and names

    def _print_Integer(self, expr):
        return super()._print_Integer(expr).replace("-", MINUS)

    def _print_Rational(self, expr):
        return super()._print_Rational(expr).replace("-", MINUS)

    def _print_Float(self, expr):
        return super()._print_Float(expr).replace("-", MINUS)

    def _print_Pi(self, expr):
        return "π"

    def _print_Symbol(self, expr):
        return _unicode_name(expr.name)

    _print_Dummy = _print_Symbol

    def _print_MatrixSymbol(self, expr):
        return _unicode_name(expr.name)

    def _print_OneMatrix(self, expr):
        return "𝟙"

    def _print_Indexed(self, expr):
        # x[i] is xᵢ; an index with no subscript letter or a compound one is read in
        # brackets, as the code indexes: W[f, c, p, q], x[n, c, i·s + p − pad].
        base = self._print(expr.base.label)
        return base + self._subscripts_or_brackets(expr.indices)

    def _print_KroneckerDelta(self, expr):
        return "δ" + self._subscripts_or_brackets(expr.args)

    def _subscripts_or_brackets(self, indices) -> str:
        marks = [_subscript(index) for index in indices]
        if all(marks):
            return "".join(marks)
        return "[" + ", ".join(map(self._print, indices)) + "]"

    # Operations

    def _print_Add(self, expr, order=None):
        prec = precedence(expr)
        terms = []
        for term in self._as_ordered_terms(expr, order=order):
            text = self._print(term)
            negative = text.startswith(MINUS) and not term.is_Add
            text = text[1:] if negative else text
            if precedence(term) < prec or term.is_Add:
                text = f"({text})"
            terms.append((MINUS if negative else "+", text))
        head_sign, head = terms[0]
        rest = " ".join(f"{sign} {text}" for sign, text in terms[1:])
        return ("−" if head_sign == MINUS else "") + head + (" " + rest if rest else "")

    def _print_Mul(self, expr):
        prec = precedence(expr)
        coefficient, rest = expr.as_coeff_Mul()
        sign = ""
        if coefficient < 0:
            expr, sign = _keep_coeff(-coefficient, rest), MINUS
        numerator, denominator = [], []
        for factor in expr.as_ordered_factors():
            exponent = factor.exp if factor.is_Pow and factor.is_commutative else None
            if exponent is not None and exponent.as_coeff_Mul()[0] < 0:
                denominator.append(sp.Pow(factor.base, -exponent, evaluate=False))
                if exponent is sp.S.NegativeOne:
                    denominator[-1] = factor.base
            elif factor.is_Rational and factor is not sp.S.Infinity:
                numerator += [sp.Integer(factor.p)] if factor.p != 1 else []
                denominator += [sp.Integer(factor.q)] if factor.q != 1 else []
            else:
                numerator.append(factor)
        text = sign + self._product(numerator or [sp.S.One], prec)
        if not denominator:
            return text
        below = self._product(denominator, prec)
        return f"{text}/{below}" if len(denominator) == 1 else f"{text}/({below})"

    def _product(self, factors, prec) -> str:
        """Factors written side by side where the note does (2t, y(1 − y), x²(…)) and
        with a dot elsewhere: √2·x, and tax·(…), which juxtaposed would read as a
        function applied."""
        text = self.parenthesize(factors[0], prec, strict=False)
        for before, factor in itertools.pairwise(factors):
            after = self.parenthesize(factor, prec, strict=False)
            left = text[-1]
            coefficient = before.is_Integer and (after[0].isalpha() or after[0] in "(√")
            applied = after[0] == "(" and (
                left == ")" or left.isdigit() or len(_bare(self._print(before))) == 1
            )
            text += ("" if coefficient or applied else "·") + after
        return text

    def _print_MatMul(self, expr):
        coefficient, matrices = expr.as_coeff_mmul()
        sign = ""
        if coefficient.is_number and coefficient.is_negative:
            expr, sign = _keep_coeff(-coefficient, matrices), MINUS
        return sign + "·".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent in (sp.S.Half, -sp.S.Half):
            inner = self._print(base)
            root = "√" + (inner if base.is_Atom else f"({inner})")
            return root if exponent == sp.S.Half else f"1/{root}"
        prec = precedence(expr)
        below = self.parenthesize(base, prec, strict=False)
        if exponent is sp.S.NegativeOne:
            return f"1/{below}"
        if exponent.is_Integer:  # x², x⁻¹ as one power notation; others keep a caret
            return below + str(exponent).translate(SUPERSCRIPTS)
        return f"{below}^{self.parenthesize(exponent, prec, strict=False)}"

    def _print_Transpose(self, expr):
        return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + "ᵀ"

    def _print_Max(self, expr):
        return f"max({self.stringify(expr.args, ', ')})"

    def _print_Min(self, expr):
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_Heaviside(self, expr):
        # The step is an Iverson bracket, as a convolution's index conditions are:
        # [x₁ > max(x₂, x₃, x₄)] rather than Heaviside(x₁ − max(x₂, x₃, x₄)).
        terms = sp.Add.make_args(expr.args[0])
        above = sp.Add(*[t for t in terms if not t.could_extract_minus_sign()])
        below = -sp.Add(*[t for t in terms if t.could_extract_minus_sign()])
        return f"[{self._print(above)} > {self._print(below)}]"

    def _print_Sum(self, expr):
        indices = [self._print(index) for index, *_ in expr.limits]
        # Σₖ for one index, Σ_{c,p,q} for several (an indexed layer's sums).
        if len(indices) == 1:
            index = _subscript(expr.limits[0][0]) or "_" + indices[0]
        else:
            index = "_{" + ",".join(indices) + "}"
        body = self._print(expr.function)
        # A sum of terms is summed whole: Σₖ (tₖ·log(yₖ) + …), never Σₖ tₖ·log(yₖ) + ….
        return f"Σ{index} ({body})" if isinstance(expr.function, sp.Add) else f"Σ{index} {body}"

    def _print_Piecewise(self, expr):
        # Inside a formula (a top-level one reads "… where …, … otherwise"). In an indexed
        # sum (a convolution's) a value that is 0 unless its index condition holds reads
        # value·[condition], Iverson's bracket; elsewhere the pieces are one factor, in
        # words: y·(1 where x > 0, 0 otherwise).
        if len(expr.args) == 2 and expr.args[1] == (0, sp.true) and expr.has(sp.Indexed):
            value, condition = expr.args[0]
            parts = condition.args if isinstance(condition, sp.And) else (condition,)
            return f"{self.parenthesize(value, 50)}·[{', '.join(map(self._print, parts))}]"
        return f"({self.piecewise_in_words(expr)})"

    def piecewise_in_words(self, expr: sp.Piecewise) -> str:
        """``y where x > 0, 0.1·y otherwise``: the pieces as the note reads them."""
        from symgrad.i18n import _

        pieces = []
        for value, condition in expr.args:
            pieces.append(
                _("{value} otherwise").format(value=self._print(value))
                if condition == sp.true
                else _("{value} where {condition}").format(
                    value=self._print(value), condition=self._print(condition)
                )
            )
        return _(", ").join(pieces)


def _unicode_name(name: str) -> str:
    """A SymPy name as the note writes it: t1 → t₁, y_i → yᵢ, xhat → x̂, dxbar → dx̄,
    sigma → σ, dgamma → dγ; an index with no subscript letter stays b_f."""
    base, *indices = name.split("_")
    digits = len(base) - len(base.rstrip("0123456789"))
    base, number = (base[:-digits], base[-digits:]) if digits and base[:-digits] else (base, "")
    differential = "d" if len(base) > 1 and base[0] == "d" and base[1:].islower() else ""
    stem = base[len(differential) :]
    if stem[-3:] in ACCENTS and len(stem) == 4:  # xhat, ybar: one letter and its accent
        stem = stem[0] + ACCENTS[stem[-3:]]
    elif stem in greek_unicode and stem.lower() in greek_letters_set:
        stem = greek_unicode[stem]
    else:
        stem, differential = base, ""
    marks = "".join(LETTER_SUBSCRIPTS.get(index, "_" + index) for index in indices)
    return differential + stem + number.translate(SUBSCRIPTS) + marks


def split_partial(key: str) -> tuple[str, str, str]:
    """A node's local derivative named ``∂y_k/∂x_i (k ≠ i)`` as its names and condition:
    ``("y_k", "x_i", "(k ≠ i)")``, for each format to write in its own notation."""
    of, _, rest = key.removeprefix("∂").partition("/∂")
    wrt, _, condition = rest.partition(" ")
    return of, wrt, condition


def _subscript(index: sp.Basic) -> str:
    """An index as a subscript mark (1 → ₁, i → ᵢ), or "" when it has none."""
    if isinstance(index, sp.Integer) and index >= 0:
        return str(index).translate(SUBSCRIPTS)
    if isinstance(index, sp.Symbol):
        return LETTER_SUBSCRIPTS.get(index.name, "")
    return ""


def _bare(text: str) -> str:
    """A printed factor without its subscripts, superscripts and accents: xᵢ², t₁ → x, t."""
    return text.rstrip(MARKS)


def plain(expr) -> str:
    """The machine form: ``y*(1 - y)``, ``-y**2``, ``dY*W.T``."""
    return PlainPrinter().doprint(expr)


def latex(expr) -> str:
    return TeXPrinter().doprint(expr)


def pretty(expr: sp.Basic | str) -> str:
    """One-line Unicode with the note's symbols: ``y(1 − y)``, ``−y²``, ``dY·Wᵀ``, ``t₁``.

    A string is a name (a report's ``"dx"`` or ``"t1"``) and prints as that symbol; a
    top-level Piecewise reads in words without the parentheses it has inside a formula.
    """
    printer = UnicodePrinter()
    if isinstance(expr, str):
        return _unicode_name(expr)
    if isinstance(expr, sp.Piecewise):
        return printer.piecewise_in_words(_whole_floats(expr))
    return printer.doprint(expr)
