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


# NumPy has no erf; math.erf is correctly rounded to within an ulp, one element at a time.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function element by element, computed in float64 and returned in
    ``x``'s dtype (float32 stays float32). Real input only: ``math.erf`` has no complex
    form."""
    x = as_float(x)
    return _erf(x).astype(x.dtype, copy=False)
