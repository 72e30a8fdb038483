"""A time limit for SymPy work on a user's expression.

A short expression can still make SymPy's simplification explode: tidying the derivative
of (a+b+c+d+e+f)**99 expands millions of terms. The limit turns that into one line and
exit 2 instead of a hang. It uses SIGALRM, so it only applies in the main thread on POSIX
(the CLI); elsewhere the block simply runs unlimited.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from symgrad.errors import SymgradError
from symgrad.i18n import _

DERIVE_SECONDS = 20.0


class _Expired(BaseException):
    """Not an ``Exception``: SymPy's and symgrad's ``except Exception`` must not swallow it."""


@contextmanager
def time_limit(seconds: float, what: str, hint: str = "") -> Iterator[None]:
    """Run the block; raise :class:`SymgradError` naming ``what`` if it takes too long."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        took = _("{what} took longer than {seconds:g} s").format(what=what, seconds=seconds)
        if hint:
            took = _("{message}; {hint}").format(message=took, hint=hint)
        raise SymgradError(took) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
