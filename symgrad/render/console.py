"""The rich console every command prints through (imports neither NumPy nor SymPy)."""

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal; in a pipe or file, as wide as ``COLUMNS`` says,
    else 80 columns (Rich's own rule when no width is forced), which every command fits."""
    return Console(stderr=stderr, highlight=False)
