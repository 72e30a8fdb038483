"""One BLAS thread while a check runs.

A gradient check runs thousands of small matrix products, each far too small for
OpenBLAS's threads to pay off. With the default of one thread per core they spin and
wait on each other, and on a shared machine (a neighbour already busy on the other
core) each product waits for a core the neighbour holds: the book's 784-50-10 network,
0.3 s alone, took 27–44 s that way. One thread runs the same products at full speed
whatever the neighbours do (benchmarks/gradcheck_speed.py measures both).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit NumPy's BLAS (OpenBLAS, MKL, BLIS) to one thread inside the block, restoring
    the previous limits afterwards, also when the block raises."""
    from threadpoolctl import threadpool_limits  # imported here: `symgrad --help` stays lean

    with threadpool_limits(limits=1, user_api="blas"):
        yield
