"""Velocity command that makes a robot with a first-order velocity loop follow a plan's reference.

    v_cmd = v_ref + lag a_ref + gain (s_ref - s)

With the robot's loop a = (v_cmd - v) / lag (see `simulator`), the error e = s_ref - s obeys

    e'' + e' / lag + (gain / lag) e = 0,   omega^2 = gain / lag,   zeta = 1 / (2 sqrt(gain lag)),

critically damped (zeta = 1) at gain = 1 / (4 lag). The defaults gain = 2.5 1/s, lag = 0.1 s give zeta = 1 and
omega = 5 rad/s: e(t) = (e_0 + (e_0' + 5 e_0) t) exp(-5 t). The feedforward lag a_ref makes exact tracking
(e = e' = 0) an equilibrium.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class TrackingLaw:
    gain: float = 2.5   # k_p, 1/s
    lag: float = 0.1    # the robot's velocity-loop lag, s

    def __post_init__(self) -> None:
        for name in ("gain", "lag"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be positive, got {value}")

    def command(self, reference: tuple[np.ndarray, np.ndarray, np.ndarray], position: np.ndarray) -> np.ndarray:
        """v_cmd (m,) from the reference (s_ref, v_ref, a_ref) and the measured position s. The measured
        velocity does not enter: the robot's own loop damps it."""
        s_ref, v_ref, a_ref = reference
        return v_ref + self.lag * a_ref + self.gain * (s_ref - np.asarray(position, dtype=float))
