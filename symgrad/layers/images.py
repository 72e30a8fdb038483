"""Images in the book's layout (N, C, H, W) unrolled into rows and back: im2col, col2im.

A convolution or a pooling reads windows of its input. ``im2col`` lays every window out
as one row, so that a convolution becomes one matrix product and a pooling one reduction
along the rows; ``col2im`` is its adjoint, adding each row back where its window came
from, which is what the backward needs (overlapping windows add up).
"""

from __future__ import annotations

import numpy as np

Shape = tuple[int, ...]


def output_size(size: int, window: int, stride: int, pad: int) -> int:
    """Windows along one axis: ⌊(size + 2·pad − window)/stride⌋ + 1 (0 if none fits)."""
    return max(0, (size + 2 * pad - window) // stride + 1)


def im2col(x: np.ndarray, window_h: int, window_w: int, stride: int = 1, pad: int = 0):
    """(N, C, H, W) → (N·OH·OW, C·window_h·window_w): one row per window, in the order
    (n, i, j); a row holds the window channel by channel, row by row (W's own order)."""
    n, c, h, w = x.shape
    out_h, out_w = output_size(h, window_h, stride, pad), output_size(w, window_w, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((n, c, window_h, window_w, out_h, out_w), dtype=padded.dtype)
    # One strided slice per window offset (p, q): window_h·window_w copies, not N·OH·OW.
    for p in range(window_h):
        for q in range(window_w):
            col[:, :, p, q] = padded[
                :, :, p : p + stride * out_h : stride, q : q + stride * out_w : stride
            ]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * out_h * out_w, -1)


def col2im(
    col: np.ndarray, shape: Shape, window_h: int, window_w: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The adjoint of :func:`im2col`: every row added back onto the window it was read
    from, the padding cut off; an element in several windows gets the sum."""
    n, c, h, w = shape
    out_h, out_w = output_size(h, window_h, stride, pad), output_size(w, window_w, stride, pad)
    col = col.reshape(n, out_h, out_w, c, window_h, window_w).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for p in range(window_h):
        for q in range(window_w):
            padded[:, :, p : p + stride * out_h : stride, q : q + stride * out_w : stride] += col[
                :, :, p, q
            ]
    return padded[:, :, pad : pad + h, pad : pad + w]


def windows(x: np.ndarray, window_h: int, window_w: int, stride: int) -> np.ndarray:
    """(N, C, H, W) → (N, OH, OW, C, window_h·window_w): each channel's windows, one per
    row of the last axis, as a pooling reads them."""
    n, c, h, w = x.shape
    out_h, out_w = output_size(h, window_h, stride, 0), output_size(w, window_w, stride, 0)
    col = im2col(x, window_h, window_w, stride)
    return col.reshape(n, out_h, out_w, c, window_h * window_w)


def from_windows(
    dcol: np.ndarray, shape: Shape, window_h: int, window_w: int, stride: int
) -> np.ndarray:
    """The adjoint of :func:`windows`: each window's gradient added back onto x's shape."""
    return col2im(
        dcol.reshape(-1, shape[1] * window_h * window_w), shape, window_h, window_w, stride
    )
