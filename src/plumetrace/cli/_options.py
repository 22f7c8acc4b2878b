"""Parsing of option values shared by the commands (``LAT,LON``, boxes, ranges)."""

from __future__ import annotations

import math

from plumetrace.errors import InvalidParameterError

__all__ = ["parse_numbers"]


def parse_numbers(text: str, count: int, option: str, form: str) -> tuple[float, ...]:
    """Parse ``count`` comma-separated finite numbers of an option, or raise one clear error.

    Parameters
    ----------
    text : str
        The option's value, e.g. ``"31.9,-102.2"``.
    count : int
        How many numbers it must hold.
    option, form : str
        The option's name and expected form, for the message (``"--origin"``,
        ``"LAT,LON"``).
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(f"{option} must be {form} (got {text!r})") from None
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise InvalidParameterError(f"{option} must be {form} (got {text!r})")
    return values
