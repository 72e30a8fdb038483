"""The CLI's real output, captured in-process for the home page and the CLI reference."""

from __future__ import annotations

import shlex

from symgrad.errors import SymgradError

# The width the output is captured at: what a terminal shows by default, and what the
# site's column holds in a code block at desktop width (a phone scrolls it).
COLUMNS = 80


def run(command: str) -> str:
    """What ``symgrad <command>`` prints, run through the Typer app in this process.

    Raises:
        SymgradError: when the command fails, so a broken example breaks the build
            instead of publishing an error message as if it were output.
    """
    from typer.testing import CliRunner

    from symgrad.cli.app import app

    result = CliRunner().invoke(
        app,
        shlex.split(command),
        prog_name="symgrad",
        env={"COLUMNS": str(COLUMNS), "SYMGRAD_LANG": "en"},  # the site's pages are English
    )
    if result.exit_code not in (0, None) or result.exception is not None:
        raise SymgradError(
            f"`symgrad {command}` failed (exit {result.exit_code}): {result.exception!r}\n"
            f"{result.output}"
        )
    # Rich pads table rows to the console width; the padding is noise on a web page.
    return "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")


def commands() -> list[tuple[str, str]]:
    """Every command of the app, in the order ``--help`` lists them, with its summary."""
    import typer

    from symgrad.cli.app import app

    group = typer.main.get_command(app)
    listed = group.list_commands(None)  # the context is unused for a plain group
    return [(name, group.commands[name].get_short_help_str(limit=200)) for name in listed]


def fenced(command: str) -> str:
    """A Markdown code block: the prompt line, then the captured output."""
    return f"```text\n$ symgrad {command}\n{run(command)}\n```\n"
