"""From the command line to a layer object: ``FILE.py:ClassName``, shapes, labels, inits.

Loading runs the user's file, as ``python FILE.py`` would (its directory first on
``sys.path``), because the user asked for exactly that on the command line. Every way
this can fail is one line naming the file, the line and the fix, never a traceback.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symgrad.comparison.shapes import parse_shape
from symgrad.errors import SymgradError
from symgrad.layers.spec import random_labels


def split_target(target: str) -> tuple[Path, str]:
    """``examples/note_layers.py:ReLU`` → (path, class name)."""
    path, colon, name = target.rpartition(":")
    if not colon or not path or not name.isidentifier():
        raise SymgradError(
            f"expected FILE.py:ClassName, e.g. examples/note_layers.py:Affine, got '{target}'"
        )
    return Path(path), name


def load_module(path: Path) -> Any:
    """Run a Python file as a module of its own."""
    if not path.is_file():
        raise SymgradError(f"no such file: {path}")
    name = f"symgrad_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymgradError(f"{path} is not a Python file symgrad can load")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # the file may import its neighbours, as under `python FILE.py`
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:  # TabError and IndentationError included
        sys.modules.pop(name, None)
        fix = "re-indent it with spaces only" if isinstance(error, TabError) else "fix it"
        raise SymgradError(f"{path}, line {error.lineno}: {error.msg}; {fix}") from None
    except Exception as error:
        sys.modules.pop(name, None)
        line = _line(error, path)
        raise SymgradError(
            f"{path}{line} raised {type(error).__name__} while loading: {error}"
        ) from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module


def _line(error: BaseException, path: Path) -> str:
    """``, line 12`` for the innermost frame of the error in the user's file."""
    trace = error.__traceback__
    found = ""
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename).resolve() == path.resolve():
            found = f", line {trace.tb_lineno},"
        trace = trace.tb_next
    return found


def load_class(target: str) -> type:
    """The class named by ``FILE.py:ClassName``.

    Raises:
        SymgradError: a missing file, a file that does not run, or no such class (listing
            the classes the file defines).
    """
    path, name = split_target(target)
    module = load_module(path)
    found = getattr(module, name, None)
    if not isinstance(found, type):
        defined = sorted(
            n
            for n, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__
        )
        known = f"; it defines {', '.join(defined)}" if defined else "; it defines no class"
        what = "no class" if found is None else "a non-class"
        raise SymgradError(f"{path} has {what} named '{name}'{known}")
    return found


def parse_init(text: str) -> tuple[str, tuple[int, ...]]:
    """``W=3,3`` → ("W", (3, 3))."""
    name, equals, shape = text.partition("=")
    name = name.strip()
    if not equals or not name.isidentifier():
        raise SymgradError(f"malformed --init '{text}': expected NAME=SHAPE, e.g. W=3,4")
    return name, parse_shape(shape)


def build_layer(cls: type, inits: Sequence[str], rng: np.random.Generator, dtype) -> Any:
    """``cls(**{name: standard-normal array of that shape})``, checked against __init__."""
    arrays = {}
    for text in inits:
        name, shape = parse_init(text)
        if name in arrays:
            raise SymgradError(f"--init {name} is given twice")
        arrays[name] = rng.standard_normal(shape).astype(dtype)
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        parameters = signature.parameters
        takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
        unknown = [n for n in arrays if n not in parameters and not takes_any]
        if unknown:
            takes = ", ".join(parameters) or "nothing"
            raise SymgradError(
                f"{cls.__name__}() takes {takes}, not {', '.join(unknown)} (from --init)"
            )
        missing = [
            n
            for n, p in parameters.items()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and n not in arrays
        ]
        if missing:
            example = " ".join(f"--init {n}=SHAPE" for n in missing)
            raise SymgradError(f"{cls.__name__}() needs {', '.join(missing)}: pass {example}")
    try:
        return cls(**arrays)
    except Exception as error:
        raise SymgradError(f"{cls.__name__}() raised {type(error).__name__}: {error}") from None


def labels_of(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random one-hot ``--labels``: rows of ``N,C``, or a single ``C``."""
    if len(shape) > 2:
        raise SymgradError(f"--labels takes N,C (or C), got {','.join(map(str, shape))}")
    return random_labels(shape, rng)


def random_inputs(
    inputs: Sequence[str], labels: Sequence[str], rng: np.random.Generator, dtype
) -> tuple[list[np.ndarray], tuple[int, ...]]:
    """Standard-normal inputs of the ``--input`` shapes, then one-hot ``--labels``; and
    the positions of the labels (not differentiated)."""
    arrays = [rng.standard_normal(parse_shape(s)).astype(dtype) for s in inputs]
    for text in labels:  # one-hot labels score against an input of their own shape
        if parse_shape(text) not in {a.shape for a in arrays}:
            shapes = " or ".join(",".join(map(str, a.shape)) for a in arrays) or "none given"
            raise SymgradError(
                f"--labels {text} matches no --input shape ({shapes}): one-hot labels have "
                "the shape of the scores they label"
            )
    constants = tuple(range(len(arrays), len(arrays) + len(labels)))
    arrays += [labels_of(parse_shape(s), rng) for s in labels]
    return arrays, constants
