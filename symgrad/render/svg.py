"""DOT source drawn as SVG by Graphviz's ``dot`` program (no Python binding needed)."""

from __future__ import annotations

import shutil
import subprocess

from symgrad.errors import SymgradError
from symgrad.i18n import _

TIMEOUT = 60  # seconds; a graph of a 500-character expression takes well under one


def dot_program() -> str | None:
    """The path of Graphviz's ``dot``, or None where it is not installed."""
    return shutil.which("dot")


def render(source: str) -> str:
    """The SVG drawing of DOT ``source``.

    Raises:
        SymgradError: where ``dot`` is not installed (naming the package to install), or
            when it fails.
    """
    program = dot_program()
    if program is None:
        raise SymgradError(
            _(
                "--format svg needs Graphviz's 'dot': install the Debian package 'graphviz' "
                "(apt-get install graphviz); --format text, --format dot and --json do not"
            )
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SymgradError(
            _("Graphviz's dot could not draw the graph: {error}").format(error=error)
        ) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise SymgradError(_("Graphviz's dot failed: {reason}").format(reason=reason[0]))
    return done.stdout.decode("utf-8")
