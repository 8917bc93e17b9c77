"""A printed distance never contradicts its status, however close to an edge it lies."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zones.explain import distance, rounded


def test_a_point_just_beyond_a_buffer_is_not_printed_at_the_buffer() -> None:
    assert distance(200.004, (0.0, 200.0)) == "200.004 m"
    assert distance(-0.03, (0.0,)) == "0.03 m"
    assert distance(1234.56) == "1,234.6 m"
    assert rounded(199.999, (0.0, 200.0), decimals=2) == 199.999


@given(
    value=st.floats(-1e6, 1e6, allow_nan=False),
    limit=st.floats(0, 1e5, allow_nan=False),
)
def test_rounding_keeps_every_value_on_its_side_of_every_limit(value: float, limit: float) -> None:
    for decimals in (1, 2):
        r = rounded(value, (0.0, limit), decimals)
        for lim in (0.0, limit):
            assert (r > lim) == (value > lim) and (r == lim) == (value == lim)
