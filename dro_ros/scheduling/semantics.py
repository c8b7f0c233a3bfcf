"""Which model a solve builds: MOSAIC's as published, or MOSAIC's with its three defects fixed.

Both follow the model nasa/MOSAIC implements (`/work/shared/mosaic/SEMANTICS.md`): which start steps
count, how contact windows become per-step data and energy, the transfer-energy and tie-break terms,
the time-invariant averaging over the horizon. They differ only in the published defects listed in
`MOSAIC_FORMAT.md` (and its step-grid assertion), each of which is one property below, so a model asks a named question instead of
comparing the setting:

- `Semantics.FIXED` (the default) fixes them: the time-invariant allocator bounds the sum over
  products of the bandwidth used on a link by the link's bandwidth, the time-varying scheduler
  minimises the weighted makespan `CostFunction.total_time`, a window without `info_time` is taken at
  time 0, and a horizon that is a whole number of steps up to rounding is accepted.
- `Semantics.MOSAIC` reproduces the published schedulers, defects included: no per-link sum, the
  makespan weight ignored, and a time-varying problem whose windows lack `info_time`, or whose step
  grid MOSAIC's assertion refuses, rejected (MOSAIC raises KeyError or AssertionError; we name the
  field); and its output's transfer `bandwidth` in data per step.
"""
from __future__ import annotations

from enum import Enum


class Semantics(str, Enum):
    FIXED = "fixed"
    MOSAIC = "mosaic"

    @property
    def bounds_link_sum(self) -> bool:
        """TI: sum_p B[i,j,p] <= bw(i,j) (the published allocator bounds each product alone)."""
        return self is Semantics.FIXED

    @property
    def weighs_makespan(self) -> bool:
        """TV: the objective includes `total_time` * makespan (the published code ignores it)."""
        return self is Semantics.FIXED

    @property
    def rounds_to_steps(self) -> bool:
        """TV: times that are whole numbers of steps up to floating-point rounding count as whole:
        Thor 0.3 s with steps of 0.1 s is 3 steps (the published code fails an assertion) and a
        1.1 s task takes 11 steps of 0.1 s (the published ceil(1.1 / 0.1) gives 12)."""
        return self is Semantics.FIXED

    @property
    def prints_step_data(self) -> bool:
        """TV output: a transfer's `bandwidth` is the data of its start step in bits (the published
        formatter prints CW[t][i][j], SEMANTICS.md 1.7: a 2 bits/s link with steps of 0.5 s prints 1.0)
        instead of the link's rate in bits/s, the field's documented meaning (the time-invariant output
        is a rate in both)."""
        return self is Semantics.MOSAIC

    @property
    def defaults_info_time(self) -> bool:
        """TV: a window without `info_time` counts as 0 (the published code raises KeyError)."""
        return self is Semantics.FIXED


SEMANTICS = tuple(s.value for s in Semantics)


def as_semantics(value: str | Semantics) -> Semantics:
    """`value` as a `Semantics`; a `ValueError` names the accepted values otherwise."""
    try:
        return Semantics(value)
    except ValueError:
        raise ValueError(f"semantics must be one of {list(SEMANTICS)}, got {value!r}") from None
