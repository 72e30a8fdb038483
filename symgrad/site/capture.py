"""The CLI's real output, captured for the site's pages in each of its languages.

A language is fixed for a whole process: the commands' ``--help`` texts are translated
when the command modules are imported. So each language's output is captured in a fresh
interpreter of its own (``python -m symgrad.site.capture LANG``, the commands as JSON on
standard input), which runs them through the real entry point, :func:`symgrad.cli.main`,
as a terminal would: the same wrapping of Chinese help, the same one-line errors.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from symgrad.errors import SymgradError

# The width the output is captured at: what a terminal shows by default, and what the
# site's column holds in a code block at desktop width (a phone scrolls it).
COLUMNS = 80


@dataclass(frozen=True)
class Captured:
    """What one language's run printed.

    Attributes:
        language: the language it was printed in.
        outputs: each command asked for (without ``symgrad``), ``--help`` and each
            ``COMMAND --help`` → what it printed.
        commands: every command of the app, in the order ``--help`` lists them, with its
            one-line summary in that language.
    """

    language: str
    outputs: dict[str, str]
    commands: list[tuple[str, str]]

    def fenced(self, command: str) -> str:
        """A Markdown code block: the prompt line, then the captured output."""
        return f"```text\n$ symgrad {command}\n{self.outputs[command]}\n```\n"


class Capture:
    """What ``symgrad <command>`` prints for each command, and every command's ``--help``,
    in ``language`` at 80 columns, run in a process started at once: the languages'
    captures run beside each other and beside the pages being written."""

    def __init__(self, commands: Iterable[str], language: str) -> None:
        self.language = language
        self._process = subprocess.Popen(
            [sys.executable, "-m", "symgrad.site.capture", language],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": str(COLUMNS), "SYMGRAD_LANG": language},
        )
        self._asked = json.dumps(list(commands))

    def result(self) -> Captured:
        """Wait for the capture to end.

        Raises:
            SymgradError: when a command failed, so a broken example breaks the build
                instead of publishing an error message as if it were output.
        """
        out, err = self._process.communicate(self._asked)
        if self._process.returncode != 0:
            raise SymgradError(f"capturing the CLI's output in {self.language} failed:\n{err}")
        answer = json.loads(out)
        commands = [(name, summary) for name, summary in answer["commands"]]
        return Captured(self.language, answer["outputs"], commands)


def _run(command: str) -> str:
    """What ``symgrad <command>`` prints, run through the entry point in this process."""
    from typer.testing import CliRunner

    from symgrad.cli import main

    code: object = 0
    with CliRunner().isolation() as (_, _, output):
        try:
            main(shlex.split(command))
        except SystemExit as done:
            code = done.code
        sys.stdout.flush()
        sys.stderr.flush()
        text = output.getvalue().decode("utf-8")
    if code not in (0, None):
        raise SymgradError(f"`symgrad {command}` failed (exit {code}):\n{text}")
    # Rich pads table rows to the console width; the padding is noise on a web page.
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def _commands() -> list[tuple[str, str]]:
    """Every command of the app, in the order ``--help`` lists them, with its summary."""
    import typer

    from symgrad.cli.app import app

    group = typer.main.get_command(app)
    listed = group.list_commands(None)  # the context is unused for a plain group
    return [(name, group.commands[name].get_short_help_str(limit=200)) for name in listed]


if __name__ == "__main__":
    from symgrad.i18n import set_language

    set_language(sys.argv[1])
    listed = _commands()
    helps = ["--help", *(f"{name} --help" for name, _summary in listed)]
    try:
        outputs = {command: _run(command) for command in [*json.load(sys.stdin), *helps]}
    except SymgradError as error:
        sys.exit(str(error))
    json.dump({"outputs": outputs, "commands": listed}, sys.stdout, ensure_ascii=False)
