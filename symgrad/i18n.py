"""Messages in the reader's language: English, or Chinese (中文) for the note's readers.

Every sentence symgrad prints goes through :func:`_` (and :func:`ngettext` where a count
decides the form). The translations are gettext catalogs: ``symgrad/locale/zh/
LC_MESSAGES/symgrad.po`` is the source, written by translators and checked by the tests
(every message translated, the same placeholders in both); the ``.mo`` file Python's
gettext reads is compiled from it by Babel when the package is built or installed
(``setup.py``), so a plain ``pip install`` has it. Mathematics, layer names and JSON keys
are not prose and stay as they are.

The language is, first to last: ``--lang``, ``SYMGRAD_LANG``, then the locale's
``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` (``zh_CN.UTF-8``, ``zh_TW`` … read Chinese).
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symgrad.errors import SymgradError

DOMAIN = "symgrad"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")
_ENVIRONMENT = ("SYMGRAD_LANG", "LC_ALL", "LC_MESSAGES", "LANG")

_chosen: str | None = None


def normalise(code: str) -> str | None:
    """``zh_CN.UTF-8``, ``zh-TW``, ``ZH`` → ``zh``; ``en_US``, ``C``, ``POSIX`` → ``en``;
    None for a code that names neither."""
    base = code.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    if base == "zh":
        return "zh"
    if base in ("en", "c", "posix"):
        return "en"
    return None


def language() -> str:
    """The language messages are printed in: ``en`` or ``zh``."""
    if _chosen is not None:
        return _chosen
    for variable in _ENVIRONMENT:
        value = os.environ.get(variable)
        if value:  # the first one set decides, as for gettext; an unknown one means English
            return normalise(value) or "en"
    return "en"


def set_language(code: str) -> None:
    """Print messages in ``code`` (``en``, ``zh``, or a locale such as ``zh_CN``) from now on.

    Raises:
        SymgradError: for a language symgrad has no messages in.
    """
    global _chosen
    chosen = normalise(code)
    if chosen is None:
        raise SymgradError(
            _("--lang {code}: choose one of {languages}").format(
                code=repr(code), languages=", ".join(LANGUAGES)
            )
        )
    _chosen = chosen


@contextlib.contextmanager
def speaking(code: str) -> Iterator[None]:
    """Messages in ``code`` inside the ``with`` block, the language before it after: the
    site's generator writes each language's pages in one process."""
    global _chosen
    before = _chosen
    set_language(code)
    try:
        yield
    finally:
        _chosen = before


@functools.cache
def _catalog(code: str) -> gettext.NullTranslations:
    if code == "en":  # the messages are written in English: nothing to look up
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
    except FileNotFoundError:  # never English in silence where Chinese was asked for
        raise SymgradError(
            f"the {code} messages are not compiled in {LOCALE_DIR}: reinstall symgrad "
            "(pip install .), which compiles them"
        ) from None


def _(message: str) -> str:
    """``message`` in the reader's language."""
    return _catalog(language()).gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog where it is defined (a column title kept in a
    table of names) and returns it unchanged; it is translated with :func:`_` where it is
    shown."""
    return message


@dataclass(frozen=True)
class Message:
    """A sentence kept in a report and translated where it is shown: reports are computed
    once and cached (a derivation on disk), then drawn in whichever language the reader
    has. ``Message(N_("derived with rows of {c} entries"), c=3)``; ``str()`` gives it in
    the reader's language, with its values filled in."""

    text: str
    values: tuple[tuple[str, Any], ...] = ()

    def __init__(self, text: str, **values: Any) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "values", tuple(values.items()))

    def __str__(self) -> str:
        return _(self.text).format(**dict(self.values))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count``, in the reader's language."""
    return _catalog(language()).ngettext(singular, plural, count)


def listed(names: Iterable[str]) -> str:
    """Names listed in a sentence: ``dx, dW`` in English, ``dx、dW`` in Chinese (a list of
    names, not of clauses, which ``_(", ")`` joins)."""
    items = list(names)
    if not items:
        return ""
    join = _("{names}, {name}")
    return functools.reduce(lambda head, name: join.format(names=head, name=name), items)


__all__ = [
    "LANGUAGES",
    "N_",
    "Message",
    "_",
    "language",
    "listed",
    "ngettext",
    "normalise",
    "set_language",
    "speaking",
]
