"""Contact windows turned into what the models use: data per step (TV) or average links (TI).

Time-varying (`stepped_links`, MOSAIC's `compute_time_varying_bandwidth`, SEMANTICS.md 1.2): grid
points g_k = t0 + k*dt, k = 0..N, with t0 the median `info_time` of all windows, as numpy's
`arange(t0, t0 + H + dt, dt)` makes them; step k pairs with [g_k, g_k+1). A window with bandwidth > 0,
start < g_N and end > g_0 is clipped to [g_0, g_N]; with g_k0 the first grid point after its start,

    bits[k0-1] += bandwidth * (g_k0 - start)              (to the step boundary, even past its end)
    bits[k]    += bandwidth * (min(end, g_k + dt) - g_k)   for k = k0..N-1 while g_k <= end

and `energy[k]` += its `energy_cost` (unweighted) for every step k it touches, including a step that
starts exactly at its end. Several windows of one pair add up. `energy[k] * bits[k]` is the energy per
step of a transfer started at k (SEMANTICS.md 1.6). In the `time_invariant` bandwidth mode every
window gives every step `bandwidth * dt` and its `energy_cost`. Self-links and links that carry
nothing are left out: no schedule gains from them.

Time-invariant (`average_links`, MOSAIC's `compute_time_invariant_bandwidth`, SEMANTICS.md 2.1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dro_ros.scheduling.problem import Problem, ProblemError
from dro_ros.scheduling.semantics import Semantics

Link = tuple[str, str]


@dataclass(frozen=True)
class SteppedLink:
    """One directed link over the steps: `bits[k]` it carries in step k and the energy coefficient
    `energy[k]` (sum of the `energy_cost` of the windows touching step k)."""

    bits: np.ndarray
    energy: np.ndarray

    @property
    def cum_bits(self) -> np.ndarray:
        """cum_bits[k] = bits carried in steps 0..k-1 (length n_steps + 1)."""
        return np.concatenate(([0.0], np.cumsum(self.bits)))

    def transfer_end(self, size: float) -> np.ndarray:
        """end[t]: first step boundary e >= t with sum(bits[t:e]) >= size (streaming mode), n+1 if
        none. A transfer started at step t occupies steps t..end[t]-1 and the receiver holds the
        product from step end[t] (tv 409-415)."""
        cum = self.cum_bits
        n = len(self.bits)
        carried = cum[None, :] - cum[:-1, None]  # carried[t, e] = sum(bits[t:e]), as MOSAIC subtracts
        reached = (carried >= size) & (np.arange(n + 1)[None, :] >= np.arange(n)[:, None])
        return np.where(reached.any(axis=1), reached.argmax(axis=1), n + 1)

    def transfer_energy(self, size: float) -> np.ndarray:
        """(end[t] - t) * energy[t] * bits[t]: every step of the transfer at the start step's energy
        and data (tv 1594-1600); end = n + 1 for a transfer that never completes."""
        steps = np.arange(len(self.bits))
        return (self.transfer_end(size) - steps) * self.energy * self.bits

    def packet_energy(self) -> np.ndarray:
        """Energy of one packet step: energy[t] * bits[t] (tv 1589-1591)."""
        return self.energy * self.bits


def step_grid(problem: Problem, semantics: Semantics) -> np.ndarray:
    """The N + 1 grid points of `stepped_links`, as MOSAIC's `arange` makes them. Where that has
    another length (MOSAIC fails an assertion, cp 63-65; e.g. Thor 0.3 s with steps of 0.1 s):
    t0 + k*dt if `semantics.rounds_to_steps`, else `ProblemError`."""
    n, dt, t0 = problem.n_steps, problem.step, problem.info_time
    grid = np.arange(t0, t0 + problem.horizon + dt, dt)
    if len(grid) == n + 1 and int(float(problem.horizon) / float(dt)) == n:
        return grid
    if semantics.rounds_to_steps:
        return t0 + dt * np.arange(n + 1)
    raise ProblemError("Time.Thor", f"MOSAIC makes {len(grid) - 1} grid steps of {dt:g} s from info_time "
                       f"{t0:g} over {problem.horizon:g} s and int(Thor / TimeStep) = {int(problem.horizon / dt)}, "
                       f"not {n} (it fails an assertion); the default semantics takes {n} steps")


def stepped_links(problem: Problem, semantics: Semantics) -> dict[Link, SteppedLink]:
    """Data and energy coefficient per step for every directed link between two agents that carries
    anything (see the module docstring)."""
    n, dt = problem.n_steps, problem.step
    bits: dict[Link, np.ndarray] = {}
    energy: dict[Link, np.ndarray] = {}
    if problem.bandwidth_mode == "time_invariant":
        for w in problem.windows:
            key = (w.origin, w.destination)
            bits[key] = np.full(n, w.bandwidth * dt)
            energy[key] = np.full(n, w.energy_cost)
    else:
        grid = step_grid(problem, semantics)
        for w in problem.windows:
            if not (w.bandwidth > 0 and w.time_start < grid[-1] and w.time_end > grid[0]):
                continue
            start, end = max(w.time_start, grid[0]), min(w.time_end, grid[-1])
            key = (w.origin, w.destination)
            link_bits = bits.setdefault(key, np.zeros(n))
            link_energy = energy.setdefault(key, np.zeros(n))
            first = int(np.searchsorted(grid, start, side="right"))
            link_bits[first - 1] += w.bandwidth * (grid[first] - start)
            link_energy[first - 1] += w.energy_cost
            for k in range(first, n):
                if grid[k] > end:
                    break
                link_bits[k] += w.bandwidth * (min(end, grid[k] + (grid[k + 1] - grid[k])) - grid[k])
                link_energy[k] += w.energy_cost
    return {key: SteppedLink(bits[key], energy[key]) for key in bits
            if key[0] != key[1] and bits[key].any()}


@dataclass(frozen=True)
class AverageLink:
    """A link averaged over the horizon (TI model): bits/s, seconds, energy per bit."""

    bandwidth: float
    latency: float
    energy_per_bit: float


def average_links(problem: Problem) -> dict[Link, AverageLink]:
    """Links averaged over the horizon H (TI model), each window over [its own info_time t_w,
    t_w + H] (a missing one is 0): with f = max(0, min(end, t_w + H) - max(start, t_w)) / H,

        bandwidth = sum bandwidth * f,   energy_per_bit = sum energy_cost * bandwidth * f / bandwidth,
        latency = sum (latency + max(0, start - t_w)) * bandwidth * f / bandwidth,

    so waiting for a window to open counts as latency. Self-links carry nothing (ti 426-430).
    """
    horizon = problem.horizon
    sums: dict[Link, list[float]] = {}
    for w in problem.windows:
        if w.origin == w.destination or w.bandwidth == 0:
            continue
        t0 = w.info_time or 0.0
        fraction = max(0.0, min(w.time_end, t0 + horizon) - max(w.time_start, t0)) / horizon
        rate = w.bandwidth * fraction
        acc = sums.setdefault((w.origin, w.destination), [0.0, 0.0, 0.0])
        acc[0] += rate
        acc[1] += rate * (w.latency + max(0.0, w.time_start - t0))
        acc[2] += rate * w.energy_cost
    return {key: AverageLink(rate, lat / rate, cost / rate) for key, (rate, lat, cost) in sums.items()
            if rate > 0}
