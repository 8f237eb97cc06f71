"""Malformed samples shared by the Hypothesis tests of every entry point."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

#: Values that break naive code: zeros of both signs, the float range's ends, NaN, infinities.
SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e300, -1e300, math.nan, math.inf, -math.inf]

#: The kinds :func:`spoiled` makes.
SPOILED_KINDS = ("special", "int", "bool", "complex", "text", "tiny")


def spoiled(draw: Any, rng: np.random.Generator, x: np.ndarray, kind: str,
            special: list[float] = SPECIAL) -> np.ndarray:
    """``x`` spoiled in the way ``kind`` (one of :data:`SPOILED_KINDS`) names: a special value
    at a drawn place, integers, booleans, complex or text of the same shape, or values near the
    bottom of the float range."""
    if kind == "special":
        if x.size:
            x = x.copy()
            x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(special))
        return x
    if kind == "int":
        return rng.integers(-3, 3, size=x.shape)
    if kind == "bool":
        return rng.integers(0, 2, size=x.shape).astype(bool)
    if kind == "complex":
        return x + 1j
    if kind == "text":
        return x.astype(str)
    if kind == "tiny":
        return x * 1e-300
    raise ValueError(f"kind must be one of {SPOILED_KINDS}, got {kind!r}")

