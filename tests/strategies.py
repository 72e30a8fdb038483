"""Hypothesis strategies shared by the property tests."""

from hypothesis import strategies as st

from symgrad.layers import CATALOG

layers = st.sampled_from(CATALOG)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
dtypes = st.sampled_from(["float64", "float32"])


@st.composite
def shapes_for(draw, layer):
    """A --shape the layer accepts: any small rank-1..3 shape, or two sizes."""
    if layer.elementwise:
        return tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    return (draw(st.integers(1, 6)), draw(st.integers(2, 6)))
