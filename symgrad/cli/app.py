"""The ``symgrad`` command: the Typer app and the boundary where errors become one line.

Command modules import nothing heavy at module level, so ``symgrad --help`` never loads
NumPy or SymPy.
"""

from __future__ import annotations

import itertools
import sys
import unicodedata
from typing import Annotated, Any

import typer
import typer.core

from symgrad.errors import SymgradError
from symgrad.i18n import N_, _, listed, set_language

# The words Click and Typer print in their own English, listed for the catalog (they are
# looked up where they are printed: the help formatter below, Typer's `_`).
CLICK_WORDS = (
    N_("Usage: "),
    N_("Options"),
    N_("Arguments"),
    N_("required"),
    N_("default: {default}"),
    N_("Show this message and exit."),
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)

# Typer words its help ("Arguments", "[required]", "[default: 0]") through the gettext
# module's global catalog, which is not symgrad's: its lookups go through symgrad's.
typer.core._ = _


class _Commands(typer.core.TyperGroup):
    """Lists each command with its whole one-line summary (its ``short_help``, in the
    reader's language), wrapped on a narrow terminal (Click cuts it with "...")."""

    # Click's Context and HelpFormatter: Typer vendors Click under a private module.
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [
            (name, command.get_short_help_str(limit=1000))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)


app = typer.Typer(
    name="symgrad",
    cls=_Commands,
    help=_("See and trust a derivative: every layer as SymPy and as NumPy, checked three ways."),
    add_completion=True,  # --install-completion / --show-completion, for bash, zsh, fish
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(asked: bool) -> None:
    if asked:
        from symgrad import __version__

        print(f"symgrad {__version__}")
        raise typer.Exit()


def _choose_language(code: str | None) -> None:
    if code is not None:
        set_language(code)


@app.callback()
def _options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="en|zh",
            callback=_choose_language,
            is_eager=True,
            help=_("The language of every message (default: SYMGRAD_LANG, then the locale)."),
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help=_("Print symgrad's version and exit."),
        ),
    ] = False,
) -> None:
    """See and trust a derivative: every layer as SymPy and as NumPy, checked three ways."""


# Registering the commands (each module adds itself to ``app``).
from symgrad.cli import catalog, check, compare, derive, graph, net, steps  # noqa: E402, F401


def fail(message: str) -> None:
    """Print one line on stderr and exit with status 2 (a usage error)."""
    print(_("symgrad: error: {message}").format(message=message), file=sys.stderr)
    sys.exit(2)


_EXTRA = "Got unexpected extra argument(s) ("  # Click's words, which carry the arguments


def _click_message(error: Any) -> str:
    """Click's usage error in the reader's language: Click words its common errors in
    English only, so they are rebuilt from what the error carries; any other is Click's."""
    kind = type(error).__name__
    param = getattr(error, "param", None)
    hint = getattr(error, "param_hint", None)
    if hint is None and param is not None:
        hint = param.get_error_hint(error.ctx)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(h) for h in hint)
    if kind == "MissingParameter" and hint:
        missing = getattr(error, "param_type", None) or getattr(param, "param_type_name", "")
        if missing == "argument":
            return _("Missing argument {name}.").format(name=hint)
        if missing == "option":
            return _("Missing option {name}.").format(name=hint)
    if kind == "NoSuchOption":
        if error.possibilities:
            return _("No such option: {name} (did you mean {options}?)").format(
                name=error.option_name, options=listed(sorted(error.possibilities))
            )
        return _("No such option: {name}").format(name=error.option_name)
    if kind == "BadParameter" and hint:
        return _("Invalid value for {name}: {reason}").format(name=hint, reason=error.message)
    if error.message.startswith(_EXTRA) and error.message.endswith(")"):
        extra = error.message[len(_EXTRA) : -1]
        return _("unexpected extra argument(s): {arguments}").format(arguments=extra)
    return error.format_message()


def _usage_message(error: Any, args: list[str]) -> str:
    """Click's usage error on one line; for an expression that starts with a minus sign,
    which Click takes for an option, how to pass it."""
    message = _click_message(error).replace("\n", " ")
    dashed = next((a for a in args if a[:1] == "-" and any(c in a for c in "()*/+^ ")), None)
    if dashed is not None and type(error).__name__ == "NoSuchOption":
        message += _(
            "; an expression that starts with '-' reads as an option: put -- before it, after "
            "the options (symgrad {command} [OPTIONS] -- '{expression}')"
        ).format(command=args[0], expression=dashed)
    return message


def _wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _wrapped(text: str, width: int) -> list[str]:
    """``text``'s paragraphs wrapped to ``width`` cells, Chinese between characters
    (:func:`symgrad.render.prose.divide`), a blank line between paragraphs."""
    from symgrad.render.prose import divide

    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        line = " ".join(paragraph.split())
        cuts = [0, *divide(line, width), len(line)]
        lines += [line[start:end].strip() for start, end in itertools.pairwise(cuts)]
        lines.append("")
    return lines[:-1]


def _wide_help(context_class: Any) -> Any:
    """A Click context class whose help formatter wraps Chinese help between characters
    and by display width: Click wraps only at spaces and counts a wide character as one
    column, so a Chinese help ran past the terminal's edge. English help is Click's own."""

    class Formatter(context_class.formatter_class):
        # Click's own words (Usage, Options, --help's line) are plain English strings in
        # the Click that Typer vendors: they are looked up in symgrad's catalog here.
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

        def write_heading(self, heading: str) -> None:
            line = _("{heading}:").format(heading=_(heading))
            self.write(f"{'':>{self.current_indent}}{line}\n")

        def write_text(self, text: str) -> None:
            if not _wide(text):
                return super().write_text(text)
            indent = " " * self.current_indent
            lines = _wrapped(text, self.width - self.current_indent)
            self.write("".join(f"{indent}{line}\n" if line else "\n" for line in lines))
            return None

        def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(name, _(text) if text else text) for name, text in rows]
            if not any(_wide(second) for _, second in rows):
                return super().write_dl(rows, col_max, col_spacing)
            # Click's own layout: the first column's width, then what is left for the text.
            first = min(max(len(name) for name, _ in rows), col_max) + col_spacing
            width = max(self.width - first - 2, 10)
            # "\b" opens a paragraph Click does not rewrap: it keeps these lines.
            rows = [
                (name, "\b\n" + "\n".join(_wrapped(text, width)) if text else text)
                for name, text in rows
            ]
            return super().write_dl(rows, col_max, col_spacing)

    class Context(context_class):
        formatter_class = Formatter

    return Context


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; bad input becomes one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    for each in (command, *getattr(command, "commands", {}).values()):
        each.context_class = _wide_help(each.context_class)
    try:
        code = command.main(args=args, prog_name="symgrad", standalone_mode=False)
    except SymgradError as error:
        fail(str(error))
    except typer.Exit as done:
        code = done.exit_code
    except typer.Abort:
        print(_("symgrad: aborted"), file=sys.stderr)
        code = 130
    except Exception as error:
        # Typer's usage errors are Click's, vendored under a private module that moves
        # between releases; they are recognised by what they carry.
        if getattr(error, "exit_code", None) != 2 or not hasattr(error, "format_message"):
            raise
        if not args:  # no command at all: show the help rather than an error
            command.main(args=["--help"], prog_name="symgrad", standalone_mode=False)
            code = 0
        else:
            fail(_usage_message(error, args))
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
