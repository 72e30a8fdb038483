"""The command line: a thin shell over :mod:`symgrad.api`, one module per command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """The ``symgrad`` command. ``--lang`` is read before the commands are defined, so
    that their help texts are in the language asked for too."""
    from symgrad import i18n
    from symgrad.errors import SymgradError

    args = sys.argv[1:] if argv is None else argv
    for position, arg in enumerate(args):
        code = arg.partition("=")[2] if arg.startswith("--lang=") else None
        if arg == "--lang" and position + 1 < len(args):
            code = args[position + 1]
        if code is not None:
            try:
                i18n.set_language(code)
            except SymgradError as error:
                print(i18n._("symgrad: error: {message}").format(message=error), file=sys.stderr)
                sys.exit(2)
            break
    from symgrad.cli.app import main as run

    run(args)
