"""A disk cache for what SymPy derives, so a repeated ``derive`` or ``compare`` is quick.

SymPy's derivations take a few hundred milliseconds; their results depend only on
symgrad's code and SymPy's version. Entries are keyed by a hash of both (every source
file of the package and the SymPy version) and of the question asked, so changing a
layer's forward expression, or upgrading SymPy, can never serve a stale derivative.
Set ``SYMGRAD_NO_CACHE=1`` to turn it off, ``SYMGRAD_CACHE_DIR`` to move it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sympy

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_fingerprint() -> str:
    """Hash of SymPy's version and every source file of symgrad."""
    digest = hashlib.sha256(sympy.__version__.encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path | None:
    if os.environ.get("SYMGRAD_NO_CACHE"):
        return None
    base = os.environ.get("SYMGRAD_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "symgrad"


def remember(question: tuple[str, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its stored result for the same question and the same code."""
    directory = cache_dir()
    if directory is None:
        return compute()
    key = hashlib.sha256("\0".join((code_fingerprint(), *question)).encode()).hexdigest()
    path = directory / f"{key}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        pass
    except Exception:  # a damaged entry is recomputed and overwritten
        pass
    value = compute()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)  # atomic: a concurrent reader never sees half a file
    except OSError:  # a read-only or full disk only costs speed
        pass
    return value
