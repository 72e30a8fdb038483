"""Small NumPy helpers shared by the catalog's layers."""

import math

import numpy as np


def as_float(x: np.ndarray | float) -> np.ndarray:
    """Return ``x`` as an inexact array: float32/float64 (and complex) stay, integers and
    bools become float64.

    The book's layers silently compute in integers when given integer arrays, and a
    numerical gradient of an integer array is garbage (a perturbation truncates).
    Complex input passes through untouched for the complex-step method: casting it to
    float would drop the imaginary part, and with it the derivative.
    """
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)


def _elementwise(scalar):
    """A ``math`` function of one float applied element by element, computed in float64
    and returned in the input's dtype (float32 stays float32). Real input only."""
    vectorized = np.vectorize(scalar, otypes=[np.float64])

    def function(x: np.ndarray | float) -> np.ndarray:
        x = as_float(x)
        return vectorized(x).astype(x.dtype, copy=False)

    function.__doc__ = f"{scalar.__name__} element by element (NumPy has none; SciPy is not used)."
    return function


# NumPy lacks them; math's are accurate to about an ulp, one element at a time.
erf = _elementwise(math.erf)
erfc = _elementwise(math.erfc)
