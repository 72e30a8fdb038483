"""Hypothesis strategies shared by the property tests."""

from hypothesis import strategies as st

from symgrad.layers import CATALOG

layers = st.sampled_from(CATALOG)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
dtypes = st.sampled_from(["float64", "float32"])


@st.composite
def shapes_for(draw, layer):
    """A --shape the layer accepts: any small rank-1..3 shape, two sizes, or for a layer
    of images (a --shape as long as its default's) N,C,H,W and its window: a
    convolution's F,K,S,P, a pooling's K,S."""
    if layer.elementwise:
        return tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    if len(layer.default_shape) <= 2:
        return (draw(st.integers(1, 6)), draw(st.integers(2, 6)))
    n, c, h, w = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        *draw(st.tuples(*[st.integers(3, 6)] * 2)),
    )
    k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    if len(layer.default_shape) == 5:  # a pooling: window, stride
        return (n, c, h, w, k, stride)
    return (n, c, h, w, draw(st.integers(1, 3)), k, stride, draw(st.integers(1, 2)))


def larger_shape(layer) -> str:
    """A --shape larger than the layer's default, of the same form."""
    if layer.elementwise:
        return "30"
    if len(layer.default_shape) <= 2:
        return "5,4"
    return ",".join(map(str, (3, *layer.default_shape[1:2], 7, 6, *layer.default_shape[4:])))
