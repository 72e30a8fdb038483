"""Calls into the user's code, contained: whatever such a call does becomes a sentence.

A layer file is the user's own code, run as ``python FILE.py`` would run it; it can do
more than raise an exception. It can call ``sys.exit`` (which would end symgrad with
status 0, as if nothing were wrong), raise ``KeyboardInterrupt``, or never return. A
:class:`Guard` runs each call (module import, constructor, forward, backward) so that
every one of those ends in :class:`UserCodeFailed`, naming where and what, which the
checks turn into a finding.

Two signals make it work, both installed only while a guard is active:

- SIGALRM, from an interval timer armed once for the guard (not per call, which would
  cost two system calls per forward): each tick asks whether the call now running
  started more than ``limit`` seconds ago and, if so, stops it. A call that never
  returns is therefore stopped within ``limit`` plus one tick.
- SIGINT: symgrad's own handler raises :class:`Interrupted`, so a Ctrl-C from the person
  at the terminal still aborts symgrad (exit 130), while a bare ``KeyboardInterrupt``
  can only have been raised by the user's code, and is a finding.

Signals are delivered to the main thread only, and Python runs their handlers between
bytecodes: off the main thread a guard runs calls without a time limit, and a single
long C call (one enormous matrix product) is stopped only once it returns. Nothing
contains ``os._exit``.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from symgrad.i18n import _

DEFAULT_TIMEOUT = 60.0  # seconds one call into the user's code may take
TICKS_PER_LIMIT = 4  # timer ticks per limit: a stuck call overruns by at most a quarter
LONGEST_TICK = 0.5  # seconds; long limits still get a prompt check


class Interrupted(KeyboardInterrupt):
    """Ctrl-C at the terminal while a guard was active: abort symgrad, report nothing."""


class UserCodeFailed(BaseException):
    """A call into the user's code ended in a way that stops the check.

    Not an ``Exception``, so that the checks' own ``except Exception`` (a backward that
    refuses a second call is fine) never swallows a ``sys.exit`` or a time-out.

    Attributes:
        where: the call, ``MyLayer.forward``, ``MyLayer()``, ``layers.py``.
        what: what it did, ``called sys.exit(0)``, ``raised KeyboardInterrupt``.
        kind: ``exit``, ``interrupt``, ``timeout`` or ``raised``.
        error: the exception the user's code raised.
    """

    def __init__(self, where: str, what: str, kind: str, error: BaseException | None) -> None:
        super().__init__(f"{where} {what}")
        self.where = where
        self.what = what
        self.kind = kind
        self.error = error


def _exit_call(code: object) -> str:
    return "sys.exit()" if code is None else f"sys.exit({code!r})"


def describe(error: BaseException) -> tuple[str, str]:
    """What an exception that escaped the user's code means: (kind, what it did)."""
    if isinstance(error, SystemExit):
        return "exit", _("called {call}").format(call=_exit_call(error.code))
    if isinstance(error, KeyboardInterrupt):
        return "interrupt", _("raised KeyboardInterrupt")
    raised = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return "raised", _("raised {error}").format(error=raised)


class Guard:
    """Runs calls into the user's code under a time limit, with SIGINT told apart.

    Use as a context manager around a whole check; :meth:`call` runs each call. Nested
    guards restore what they replaced. Off the main thread (or where ``setitimer`` does
    not exist) the guard installs no signal handlers and calls run without a limit.

    Args:
        limit: seconds one call may run; None for no limit.
    """

    def __init__(self, limit: float | None = DEFAULT_TIMEOUT) -> None:
        self.limit = limit
        self.where: str | None = None  # the call running now
        self.started = 0.0
        self.raised: tuple[str, BaseException] | None = None  # user code's last exception
        self._saved: tuple[Any, Any, Any] | None = None

    def __enter__(self) -> Guard:
        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            interrupt = signal.signal(signal.SIGINT, _interrupted)
            alarm, timer = None, None
            if self.limit is not None:
                alarm = signal.signal(signal.SIGALRM, self._tick)
                tick = min(self.limit / TICKS_PER_LIMIT, LONGEST_TICK)
                timer = signal.setitimer(signal.ITIMER_REAL, tick, tick)
            self._saved = (interrupt, alarm, timer)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            interrupt, alarm, timer = self._saved
            if timer is not None:
                signal.setitimer(signal.ITIMER_REAL, *timer)
                signal.signal(signal.SIGALRM, alarm)
            signal.signal(signal.SIGINT, interrupt)
            self._saved = None

    def _tick(self, signum: int, frame: object) -> None:
        where, limit = self.where, self.limit
        if where is not None and limit is not None and time.monotonic() - self.started > limit:
            self.where = None
            raise UserCodeFailed(
                where,
                _("ran for more than {limit} s and was stopped").format(limit=f"{limit:g}"),
                "timeout",
                None,
            )

    def call(self, where: str, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)``, which is the user's code at ``where`` (``MyLayer.forward``).

        An ``Exception`` it raises passes through unchanged (and is remembered in
        :attr:`raised`, so that the check can tell it from symgrad's own); ``sys.exit``,
        a ``KeyboardInterrupt`` that is not the terminal's Ctrl-C, and running past the
        limit become :class:`UserCodeFailed`.
        """
        self.where, self.started = where, time.monotonic()
        try:
            return function(*args)
        except Exception as error:
            self.raised = where, error
            raise
        except (UserCodeFailed, Interrupted):
            raise
        except BaseException as error:  # SystemExit, KeyboardInterrupt, GeneratorExit, …
            kind, what = describe(error)
            raise UserCodeFailed(where, what, kind, error) from None
        finally:
            self.where = None

    def by_user(self, error: BaseException) -> str | None:
        """Where ``error`` was raised by the user's code inside :meth:`call`; None when it
        was not (it is symgrad's own)."""
        if self.raised is not None and self.raised[1] is error:
            return self.raised[0]
        return None


def _interrupted(signum: int, frame: object) -> None:
    raise Interrupted


UNGUARDED = Guard(None)  # for a Subject built outside any check: no timer, no handlers
