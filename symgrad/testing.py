"""Checking backward passes in your own test suite.

>>> from symgrad.testing import assert_backward_ok
>>> def test_my_affine():
...     layer = MyAffine(np.random.randn(3, 4), np.random.randn(4))
...     assert_backward_ok(layer, np.random.randn(2, 3))

A failing check raises :class:`AssertionError` whose message is the whole report: the
problems in words first, then the tables. See ``examples/test_note_layers.py``.
"""

from __future__ import annotations

from typing import Any

from symgrad.checking.report import LayerCheck

__all__ = ["assert_backward_ok"]


def assert_backward_ok(layer: Any, *inputs: Any, **options: Any) -> LayerCheck:
    """Assert that :func:`symgrad.check_layer` finds nothing wrong with ``layer``.

    Args:
        layer: an object with ``forward(*inputs)`` and ``backward(dout)``.
        *inputs: forward's arguments.
        **options: passed on to :func:`symgrad.check_layer`
            (``constants=``, ``seed=``, ``dtype=``, ``method=``, ``symbolic=``, ``params=``,
            ``fast=``); no progress bar is drawn.

    Returns:
        The report, for further assertions.

    Raises:
        AssertionError: when any problem is found; the message is the report.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    from symgrad.api import check_layer

    options.setdefault("progress", False)
    report = check_layer(layer, *inputs, **options)
    if not report.ok:
        count = max(len(report.problems), 1)
        raise AssertionError(
            f"{report.layer}: {count} problem{'s' * (count > 1)} in its backward\n{report}"
        )
    return report
