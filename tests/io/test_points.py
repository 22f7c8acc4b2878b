from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.io.points import parse_latlon_lines


def test_plain_and_commented_lines() -> None:
    lat, lon = parse_latlon_lines("31.8,-106.4\n# a comment\n\n 32.0 , -106.0 \n")
    np.testing.assert_array_equal(lat, [31.8, 32.0])
    np.testing.assert_array_equal(lon, [-106.4, -106.0])


def test_empty_input_is_no_points() -> None:
    lat, lon = parse_latlon_lines("# nothing\n\n")
    assert lat.size == 0 and lon.size == 0


@pytest.mark.parametrize("bad", ["abc", "1,2,3", "1,nan", "31.8"])
def test_a_bad_line_is_named(bad: str) -> None:
    with pytest.raises(InvalidParameterError, match=r"stdin line 2 must be lat,lon"):
        parse_latlon_lines(f"31.8,-106.4\n{bad}\n", "stdin")
