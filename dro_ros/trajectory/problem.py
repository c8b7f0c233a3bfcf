"""The fleet trajectory problem of thesis Ch. 5 (eq. 5.3-5.9, 5.15-5.16), as data.

N agents, each a double integrator in m = 1, 2 or 3 dimensions, discretized exactly for a piecewise
constant input (eq. 5.5-5.6):

    x_i(t+1) = A x_i(t) + B u_i(t),  A = [[1, ts], [0, 1]] (x) I_m,  B = [ts^2 / 2, ts]^T (x) I_m,

with state x_i = (s_i, v_i). The problem (eq. 5.8) minimizes sum_i sum_t ||u_i(t)||^2 (eq. 5.7) subject to

* a known initial state x_i(0);
* a terminal condition at t = H: a fixed state (`FixedTerminal`), or a disc/ball around a centre with a
  fixed terminal velocity (`BallTerminal`, eq. 5.15-5.16), or, for a receding-horizon window, a fixed
  terminal velocity with the position free and a cost weight ||s_i(H) - target||^2 added to the objective
  (`GoalTerminal`);
* ||v_i(t)|| <= v_bar and ||u_i(t)|| <= u_bar (either limit may be absent);
* the coupling between agents, one of
  - `"collision"`: ||s_i(t) - s_j(t)|| >= r_min for every pair i < j (eq. 5.8, nonconvex), or
  - `"ordering"`: s_{i+1}(t) - s_i(t) >= r_min for consecutive agents (1-D platoon, linear);
* in the plane, dist(s_i(t), O) >= clearance for every static obstacle O (`trajectory.obstacles`); the
  clearance defaults to r_min / 2, a robot's radius when r_min is the distance of two touching robots;
* ||s_i(t) - p_k(t)|| >= traffic_separation for the known trajectories p_k(t), t = 0..H, of robots outside
  the problem (`traffic`: moving obstacles, e.g. a silent robot's last plan in a receding-horizon mission).

`separation`: "samples" (eq. 5.8: the collision and traffic separations at t = 1..H, as the thesis) or
"segments" (also between the samples: `stage._segment_rows`; conservative, and slower to solve: twice the
rows, and a crowd's rows are active more often).

State constraints hold at every sample t = 0..H: t = 0 is checked on the data (`diagnose`), t = 1..H in
the optimization (t = H is the terminal separation of eq. 5.15). Inputs exist for t = 0..H-1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

import numpy as np

from dro_ros.trajectory.obstacles import DiscObstacle, Obstacle, PolygonObstacle

Coupling = Literal["collision", "ordering"]

MAX_HORIZON = 100_000
"""Largest H accepted: the stage problems grow with H (the thesis' largest is 1000)."""


class ProblemError(ValueError):
    """Inconsistent problem data; the message names the offending field."""


@dataclass(frozen=True)
class FixedTerminal:
    """x_i(H) = (position, velocity) (eq. 5.12)."""

    position: np.ndarray
    velocity: np.ndarray

    def __post_init__(self) -> None:
        _as_arrays(self, "position", "velocity")


@dataclass(frozen=True)
class BallTerminal:
    """||s_i(H) - centre|| <= radius and v_i(H) = velocity (eq. 5.15-5.16)."""

    centre: np.ndarray
    radius: float
    velocity: np.ndarray

    def __post_init__(self) -> None:
        _as_arrays(self, "centre", "velocity")


@dataclass(frozen=True)
class GoalTerminal:
    """v_i(H) = velocity, s_i(H) free; the objective gains weight ||s_i(H) - target||^2 (a receding-horizon
    window's cost to go)."""

    target: np.ndarray
    weight: float
    velocity: np.ndarray

    def __post_init__(self) -> None:
        _as_arrays(self, "target", "velocity")


Terminal = Union[FixedTerminal, BallTerminal, GoalTerminal]


@dataclass(frozen=True)
class FleetProblem:
    """Problem (5.8) for a fleet; agents are indexed 0..N-1 (the thesis numbers them 1..N)."""

    dim: int
    horizon: int
    step: float
    initial: np.ndarray                 # (N, 2 * dim): rows (s_i(0), v_i(0))
    terminals: tuple[Terminal, ...]
    r_min: float
    coupling: Coupling = "collision"
    max_speed: float | None = None      # v_bar
    max_input: float | None = None      # u_bar
    name: str = "fleet"
    obstacles: tuple[Obstacle, ...] = ()
    clearance: float | None = None      # from obstacles; None: r_min / 2
    traffic: tuple[np.ndarray, ...] = ()    # (H+1, dim) positions of robots outside the problem
    traffic_separation: float | None = None  # from traffic; None: r_min
    separation: Literal["samples", "segments"] = "samples"
    A: np.ndarray = field(init=False, repr=False, compare=False)
    B: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require(self.dim in (1, 2, 3), "dim", f"must be 1, 2 or 3, got {self.dim}")
        _require(int(self.horizon) == self.horizon and 1 <= self.horizon <= MAX_HORIZON, "horizon",
                 f"must be a positive integer up to {MAX_HORIZON}, got {self.horizon}")
        _require(np.isfinite(self.step) and self.step > 0, "step", f"must be positive, got {self.step}")
        initial = np.asarray(self.initial, dtype=float)
        _require(initial.ndim == 2 and initial.shape[1] == 2 * self.dim and initial.shape[0] >= 1, "initial",
                 f"expected shape (N, {2 * self.dim}) for dim {self.dim}, got {initial.shape}")
        _require(bool(np.all(np.isfinite(initial))), "initial", "contains a non-finite value")
        object.__setattr__(self, "initial", initial)
        _require(len(self.terminals) == len(initial), "terminals",
                 f"expected one per agent ({len(initial)}), got {len(self.terminals)}")
        for i, terminal in enumerate(self.terminals):
            _check_terminal(terminal, self.dim, f"terminals[{i}]")
        _require(np.isfinite(self.r_min) and self.r_min >= 0, "r_min", f"must be >= 0, got {self.r_min}")
        _require(self.coupling in ("collision", "ordering"), "coupling",
                 f"expected 'collision' or 'ordering', got {self.coupling!r}")
        _require(self.coupling != "ordering" or self.dim == 1, "coupling",
                 "'ordering' is defined for dim 1 only")
        for name in ("max_speed", "max_input"):
            value = getattr(self, name)
            _require(value is None or (np.isfinite(value) and value > 0), name, f"must be positive, got {value}")
        object.__setattr__(self, "obstacles", tuple(self.obstacles))
        for k, obstacle in enumerate(self.obstacles):
            _require(isinstance(obstacle, (DiscObstacle, PolygonObstacle)), f"obstacles[{k}]",
                     f"expected a DiscObstacle or a PolygonObstacle, got {type(obstacle).__name__}")
        _require(not self.obstacles or self.dim == 2, "obstacles", f"are defined in the plane (dim 2), not dim {self.dim}")
        clearance = self.r_min / 2 if self.clearance is None else self.clearance
        _require(np.isfinite(clearance) and clearance >= 0, "clearance", f"must be >= 0, got {self.clearance}")
        object.__setattr__(self, "clearance", float(clearance))
        traffic = tuple(np.asarray(p, dtype=float) for p in self.traffic)
        for k, path in enumerate(traffic):
            _require(path.shape == (self.horizon + 1, self.dim) and bool(np.all(np.isfinite(path))), f"traffic[{k}]",
                     f"expected finite positions of shape {(self.horizon + 1, self.dim)}, got {path.shape}")
        object.__setattr__(self, "traffic", traffic)
        separation = self.r_min if self.traffic_separation is None else self.traffic_separation
        _require(np.isfinite(separation) and separation >= 0, "traffic_separation",
                 f"must be >= 0, got {self.traffic_separation}")
        object.__setattr__(self, "traffic_separation", float(separation))
        _require(self.separation in ("samples", "segments"), "separation",
                 f"expected 'samples' or 'segments', got {self.separation!r}")
        ts, eye = self.step, np.eye(self.dim)
        object.__setattr__(self, "A", np.kron(np.array([[1.0, ts], [0.0, 1.0]]), eye))
        object.__setattr__(self, "B", np.kron(np.array([[ts * ts / 2], [ts]]), eye))

    @property
    def n_agents(self) -> int:
        return len(self.initial)

    def rollout(self, inputs: np.ndarray, initial: np.ndarray) -> np.ndarray:
        """States x(t), t = 0..H, (H+1, 2m) from x(0) = `initial` and inputs u(t) (H, m), by (5.5)-(5.6) in
        closed form: v(t) = v(0) + ts sum u, s(t+1) = s(t) + ts v(t) + ts^2/2 u(t)."""
        m, ts = self.dim, self.step
        inputs = np.asarray(inputs, dtype=float)
        s0, v0 = initial[:m], initial[m:]
        velocity = np.vstack([v0, v0 + ts * np.cumsum(inputs, axis=0)])
        position = np.vstack([s0, s0 + np.cumsum(ts * velocity[:-1] + ts * ts / 2 * inputs, axis=0)])
        return np.hstack([position, velocity])

    def coupled_pairs(self, agents: "set[int] | None" = None) -> list[tuple[int, int]]:
        """Pairs (i, j), i < j, tied by the coupling constraint, optionally only those inside `agents`."""
        n = self.n_agents
        if self.coupling == "ordering":
            pairs = [(i, i + 1) for i in range(n - 1)]
        else:
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        if agents is None:
            return pairs
        return [(i, j) for i, j in pairs if i in agents and j in agents]


def _as_arrays(instance: Any, *names: str) -> None:
    for name in names:
        object.__setattr__(instance, name, np.atleast_1d(np.asarray(getattr(instance, name), dtype=float)))


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise ProblemError(f"{field_name}: {message}")


def _check_terminal(terminal: Any, dim: int, where: str) -> None:
    if isinstance(terminal, FixedTerminal):
        vectors = {"position": terminal.position, "velocity": terminal.velocity}
    elif isinstance(terminal, BallTerminal):
        vectors = {"centre": terminal.centre, "velocity": terminal.velocity}
        _require(np.isfinite(terminal.radius) and terminal.radius >= 0, f"{where}.radius",
                 f"must be >= 0, got {terminal.radius}")
    elif isinstance(terminal, GoalTerminal):
        vectors = {"target": terminal.target, "velocity": terminal.velocity}
        _require(np.isfinite(terminal.weight) and terminal.weight > 0, f"{where}.weight",
                 f"must be positive, got {terminal.weight}")
    else:
        raise ProblemError(f"{where}: expected a FixedTerminal, BallTerminal or GoalTerminal, "
                           f"got {type(terminal).__name__}")
    for name, vector in vectors.items():
        array = np.asarray(vector, dtype=float)
        _require(array.shape == (dim,) and bool(np.all(np.isfinite(array))), f"{where}.{name}",
                 f"expected {dim} finite numbers, got {vector!r}")
