"""The one family of errors a user can cause.

The CLI turns any :class:`SymgradError` into a single line on stderr and exit code 2;
anything else is a bug in symgrad and is allowed to show its traceback.
"""


class SymgradError(Exception):
    """Bad input from the user: an unknown layer, a malformed shape, an unsafe expression."""
