"""Contact windows turned into what the models use: bits per step (TV) or average links (TI).

Step k covers [t0 + k*dt, t0 + (k+1)*dt) with t0 the problem's `info_time`. In the default
`time_varying` bandwidth mode a window adds `bandwidth * overlap` bits to each step it overlaps, and
`energy_cost * bandwidth * overlap` to that step's energy, so overlapping windows add up and each bit is
charged at its own window's cost. In `time_invariant` bandwidth mode every window is taken as up for the
whole horizon (`bandwidth * dt` bits per step). Self-links (origin = destination) carry nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dro_ros.scheduling.problem import Problem

Link = tuple[str, str]


@dataclass(frozen=True)
class SteppedLink:
    """One directed link over the steps: `bits[k]` it carries, `energy[k]` if all are sent."""

    bits: np.ndarray
    energy: np.ndarray

    @property
    def cum_bits(self) -> np.ndarray:
        """cum_bits[k] = bits carried in steps 0..k-1 (length n_steps + 1)."""
        return np.concatenate(([0.0], np.cumsum(self.bits)))

    def transfer_end(self, size: float) -> np.ndarray:
        """end[t]: first step boundary s > t with sum(bits[t:s]) >= size (streaming mode).

        A transfer started at step t occupies steps t..end[t]-1 and the receiver holds the product
        from step end[t]. Values above n_steps mean the transfer never completes.
        """
        cum = self.cum_bits
        tolerance = 1e-9 * max(size, 1.0)
        end = np.searchsorted(cum, cum[:-1] + size - tolerance, side="left")
        return np.maximum(end, np.arange(1, len(self.bits) + 1))

    def transfer_energy(self, size: float) -> np.ndarray:
        """Energy of streaming `size` bits from each start step, each bit at its step's cost."""
        cum = self.cum_bits
        cum_energy = np.concatenate(([0.0], np.cumsum(self.energy)))
        return np.interp(cum[:-1] + size, cum, cum_energy) - cum_energy[:-1]

    def packet_energy(self, size: float) -> np.ndarray:
        """Energy of one packet step: min(bits, size) bits at the step's cost per bit."""
        per_bit = np.divide(self.energy, self.bits, out=np.zeros_like(self.energy), where=self.bits > 0)
        return np.minimum(self.bits, size) * per_bit


@dataclass(frozen=True)
class AverageLink:
    """A link averaged over the horizon (TI model): bits/s, seconds, energy per bit."""

    bandwidth: float
    latency: float
    energy_per_bit: float


def stepped_links(problem: Problem) -> dict[Link, SteppedLink]:
    """Bits and energy per step for every directed link that carries anything."""
    n, dt, t0 = problem.n_steps, problem.step, problem.info_time
    lower = t0 + dt * np.arange(n)
    upper = lower + dt
    bits: dict[Link, np.ndarray] = {}
    energy: dict[Link, np.ndarray] = {}
    for w in problem.windows:
        if w.origin == w.destination or w.bandwidth <= 0:
            continue
        if problem.bandwidth_mode == "time_invariant":
            overlap = np.full(n, dt)
        else:
            overlap = np.clip(np.minimum(w.time_end, upper) - np.maximum(w.time_start, lower), 0.0, None)
        key = (w.origin, w.destination)
        bits[key] = bits.get(key, np.zeros(n)) + w.bandwidth * overlap
        energy[key] = energy.get(key, np.zeros(n)) + w.energy_cost * w.bandwidth * overlap
    return {key: SteppedLink(bits[key], energy[key]) for key in bits if bits[key].any()}


def average_links(problem: Problem) -> dict[Link, AverageLink]:
    """Links averaged over [t0, t0 + horizon] (TI model).

    bandwidth = sum over windows of bandwidth * (fraction of the horizon the window is up);
    latency and energy per bit are the bandwidth-weighted means over the windows, where a window's
    latency includes the wait from t0 until it opens.
    """
    t0, horizon = problem.info_time, problem.horizon
    sums: dict[Link, list[float]] = {}
    for w in problem.windows:
        if w.origin == w.destination or w.bandwidth <= 0:
            continue
        fraction = max(0.0, min(w.time_end, t0 + horizon) - max(w.time_start, t0)) / horizon
        if fraction <= 0:
            continue
        rate = w.bandwidth * fraction
        acc = sums.setdefault((w.origin, w.destination), [0.0, 0.0, 0.0])
        acc[0] += rate
        acc[1] += rate * (w.latency + max(0.0, w.time_start - t0))
        acc[2] += rate * w.energy_cost
    return {key: AverageLink(rate, lat / rate, cost / rate) for key, (rate, lat, cost) in sums.items()}
