"""The command line: a thin shell over :mod:`symgrad.api`, one module per command."""
