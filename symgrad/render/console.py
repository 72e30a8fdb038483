"""The rich console every command prints through (imports neither NumPy nor SymPy)."""

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A console that does not wrap tables at 80 columns when writing to a file or pipe."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else 120
    return Console(stderr=stderr, highlight=False, width=width)
