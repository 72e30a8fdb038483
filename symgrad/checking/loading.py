"""From the command line to a layer object: ``FILE.py:ClassName``, shapes, labels, inits.

Loading runs the user's file, as ``python FILE.py`` would (its directory first on
``sys.path``), because the user asked for exactly that on the command line. The file and
the constructor run under a :class:`~symgrad.checking.containment.Guard`: whatever they
do (raise, call sys.exit, never return) ends in
:class:`~symgrad.checking.containment.UserCodeFailed` naming the file and the line, which
becomes a finding; a target that names no class is a :class:`SymgradError`.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symgrad.checking.containment import DEFAULT_TIMEOUT, Guard, UserCodeFailed
from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.layers.spec import random_labels


def split_target(target: str) -> tuple[Path, str]:
    """``examples/note_layers.py:ReLU`` → (path, class name)."""
    path, colon, name = target.rpartition(":")
    if not colon or not path or not name.isidentifier():
        raise SymgradError(
            _(
                "expected FILE.py:ClassName, e.g. examples/note_layers.py:Affine, got '{target}'"
            ).format(target=target)
        )
    return Path(path), name


def load_module(
    path: Path, timeout: float | None = DEFAULT_TIMEOUT, paths: Sequence[str] = ()
) -> Any:
    """Run a Python file as a module of its own (for at most ``timeout`` seconds), with
    its folder, ``paths`` and the current folder on the import path while it loads."""
    if not path.is_file():
        raise SymgradError(_("no such file: {path}").format(path=path))
    name = f"symgrad_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymgradError(_("{path} is not a Python file symgrad can load").format(path=path))
    module = importlib.util.module_from_spec(spec)
    # The file may import its neighbours (as under `python FILE.py`) and packages below
    # the current folder (as under `python -m`: the book's `from common.layers import …`
    # run from the book's root), and below any folder given with --path.
    folders = [str(path.resolve().parent), *(str(Path(p).resolve()) for p in paths), os.getcwd()]
    added = [f for f in dict.fromkeys(folders) if f not in sys.path]
    sys.path[:0] = added
    sys.modules[name] = module
    try:
        with Guard(timeout) as guard:
            guard.call(str(path), spec.loader.exec_module, module)
    except SyntaxError as error:  # TabError and IndentationError included
        sys.modules.pop(name, None)
        fix = "; re-indent it with spaces only" if isinstance(error, TabError) else ""
        raise UserCodeFailed(
            f"{path}, line {error.lineno}:", f"{error.msg}{fix}", "raised", error
        ) from None
    except Exception as error:
        sys.modules.pop(name, None)
        what = f"raised {type(error).__name__} while loading: {error}"
        if isinstance(error, ModuleNotFoundError):
            what += (
                f"; run symgrad from the folder that holds {error.name or 'that module'}, "
                "or pass --path FOLDER (or set PYTHONPATH) so that it can be imported"
            )
        raise UserCodeFailed(f"{path}{_line(error, path)}", what, "raised", error) from None
    except UserCodeFailed as failure:
        sys.modules.pop(name, None)
        line = _line(failure.error or failure, path)  # a time-out stops in the file itself
        what = f"{failure.what} while loading"
        raise UserCodeFailed(f"{path}{line}", what, failure.kind, failure.error) from None
    finally:
        for folder in added:
            if folder in sys.path:
                sys.path.remove(folder)
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


def load_class(
    target: str, timeout: float | None = DEFAULT_TIMEOUT, paths: Sequence[str] = ()
) -> type:
    """The class named by ``FILE.py:ClassName``.

    Raises:
        SymgradError: a missing file or no such class (listing the classes the file
            defines).
        UserCodeFailed: the file does not run (it raised, called sys.exit, or ran longer
            than ``timeout`` seconds).
    """
    path, name = split_target(target)
    module = load_module(path, timeout, paths)
    found = getattr(module, name, None)
    if not isinstance(found, type):
        defined = sorted(
            n
            for n, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__
        )
        if found is None:
            missing = _("{path} has no class named '{name}'")
        else:
            missing = _("{path} has a non-class named '{name}'")
        if defined:
            known = _("; it defines {classes}").format(classes=", ".join(defined))
        else:
            known = _("; it defines no class")
        raise SymgradError(missing.format(path=path, name=name) + known)
    return found


def build_layer(
    cls: type,
    inits: Mapping[str, tuple[int, ...]],
    rng: np.random.Generator,
    dtype: np.dtype,
    timeout: float | None = DEFAULT_TIMEOUT,
    settings: Mapping[str, Any] | None = None,
) -> Any:
    """``cls(**{name: standard-normal array of that shape}, **settings)``, checked against
    __init__ (``settings`` are its scalar arguments: ``stride=2``, ``dropout_ratio=0.5``).

    Raises:
        SymgradError: ``--init`` names that __init__ does not take, or misses some.
        UserCodeFailed: the constructor raised, called sys.exit or ran past ``timeout``.
    """
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        parameters = signature.parameters
        takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
        given = {**inits, **(settings or {})}
        unknown = [n for n in given if n not in parameters and not takes_any]
        if unknown:
            takes = ", ".join(parameters) or _("nothing")
            raise SymgradError(
                _("{layer}() takes {takes}, not {names} (from --init/--set)").format(
                    layer=cls.__name__, takes=takes, names=", ".join(unknown)
                )
            )
        missing = [
            n
            for n, p in parameters.items()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and n not in given
        ]
        if missing:
            example = " ".join(f"--init {n}=SHAPE" for n in missing)
            raise SymgradError(
                _(
                    "{layer}() needs {names}: pass {example} for an array, or --set NAME=VALUE "
                    "for a number or True/False"
                ).format(layer=cls.__name__, names=", ".join(missing), example=example)
            )
    arrays = {name: rng.standard_normal(shape).astype(dtype) for name, shape in inits.items()}
    arrays |= dict(settings or {})
    where = f"{cls.__name__}()"
    with Guard(timeout) as guard:
        try:
            return guard.call(where, lambda: cls(**arrays))
        except Exception as error:
            raise UserCodeFailed(
                where, f"raised {type(error).__name__}: {error}", "raised", error
            ) from None


def check_labels(labels: Sequence[tuple[int, ...]], inputs: Sequence[tuple[int, ...]]) -> None:
    """``--labels`` take N,C (or C) and the shape of an ``--input``: the scores they label."""
    for shape in labels:
        text = ",".join(map(str, shape))
        if len(shape) > 2:
            raise SymgradError(_("--labels takes N,C (or C), got {text}").format(text=text))
        if shape not in inputs:
            shapes = " or ".join(",".join(map(str, s)) for s in inputs) or "none given"
            raise SymgradError(
                _(
                    "--labels {text} matches no --input shape ({shapes}): one-hot labels have the "
                    "shape of the scores they label"
                ).format(text=text, shapes=shapes)
            )


def random_inputs(
    inputs: Sequence[tuple[tuple[int, ...], int | None]],
    labels: Sequence[tuple[int, ...]],
    rng: np.random.Generator,
    dtype: np.dtype,
) -> tuple[list[np.ndarray], tuple[int, ...]]:
    """Forward's arguments: standard-normal arrays for the ``--input`` shapes, integer
    arrays in [0, HIGH) for ``--input SHAPE:HIGH`` (class labels, word ids), then random
    one-hot ``--labels`` (checked with :func:`check_labels`); and the positions of what
    is not differentiated (the integer inputs and the labels)."""
    arrays: list[np.ndarray] = []
    constants: list[int] = []
    for shape, high in inputs:
        if high is None:
            arrays.append(rng.standard_normal(shape).astype(dtype))
        else:
            constants.append(len(arrays))
            arrays.append(rng.integers(0, high, size=shape))
    constants += range(len(arrays), len(arrays) + len(labels))
    arrays += [random_labels(shape, rng) for shape in labels]
    return arrays, tuple(constants)
