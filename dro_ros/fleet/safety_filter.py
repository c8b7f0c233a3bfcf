"""A reactive separation filter: the velocity command closest to the tracker's that keeps a robot out of
its neighbours' discs, whatever the plans say (a pushed neighbour, one dead-reckoning on stale odometry).

With robot i at p, neighbour j at p_j moving at v_j, d_j = ||p - p_j|| and n_j = (p - p_j) / d_j, the
barrier h_j = d_j - distance must stay >= 0. Its rate is n_j . (v - v_j), so the control barrier function
condition d/dt h_j >= -rate h_j is, for each neighbour within `distance + reach`, the half-space

    n_j . v >= n_j . v_j - rate h_j,

and likewise n_O . v >= -rate (dist(p, O) - clearance) for each static obstacle O within
`clearance + reach` (n_O the gradient of the distance, the outward normal at the nearest point, so giving
way to a neighbour never drives a robot into an obstacle). The command is the projection of the nominal one
onto their intersection,

    v* = argmin ||v - v_nom||^2  s.t.  G v >= b   (rows n_j, b_j = n_j . v_j - rate h_j).

A robot already inside (h_j < 0) is pushed back out at rate |h_j|. Each robot takes the whole of every
constraint on itself (the neighbours' measured velocities, a push included, enter b): a neighbour that
keeps its plan, or cannot react, is still avoided. The QP has at most a few rows in R^m (m <= 3); its
optimum lies on a face of at most m active rows, so every such face is tried (`_projection`) and the
closest feasible point kept. When the half-spaces do not intersect (squeezed from opposite sides), the
neighbours' bounds are first relaxed by the least amount t* that makes them meet the obstacles' (the linear
program min t s.t. G_j v + t >= b_j, G_O v >= b_O, `_least_relaxation`; a static obstacle cannot give way, a
neighbour's own filter can), or every bound when the obstacles' alone do not meet, and v_nom is projected
onto the relaxed set (or, when nearly parallel rows leave no face to project on, the program's own point is
taken). Commands are bounded by `max_speed` per axis in that program only.

A robot on its plan (`on_plan`) keeps the obstacles' clearance by the plan, which the checker certified
(the filter's clearance is the plan's less the tracking tolerance): its obstacle rows then only forbid
approaching an obstacle faster than the nominal command does, b_O = min(-rate h_O, n_O . v_nom), so that
giving way to a neighbour still never drives it in, but a plan sliding past a disc at speed is not braked
(the barrier alone, at 2 1/s, drew robots 0.13 m off such plans over DDS). Off its plan (pushed, or
already giving way) the barrier holds in full.

A robot moving beyond its commands (a push: velocity d on top of the commanded motion) would close on an
obstacle at n_O . d more than its row allows. With an estimate of d (`DisturbanceEstimate`: the measured
velocity less the velocity its commands explain through the velocity loop's lag, at most `limit`), each
obstacle row holds for the motion the robot will have, n_O . (v + d) >= b_O, so the command counters the
push. (A neighbour hears the push in the robot's shared velocity and gives way; an obstacle cannot.) The
estimate trails the push by the odometry's differencing window and the loop's lag, so a robot shoved
towards an obstacle still closes on it for about that long; and a robot held back (by a wall, or frozen
odometry) reads as pushed, which `limit` bounds.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.optimize import linprog


EPS = 1e-6   # m, the step of the obstacle distance's central differences


@dataclass(frozen=True)
class SeparationFilter:
    distance: float          # m, the smallest centre distance to keep (r_min less part of its tolerance)
    rate: float = 2.0        # 1/s, the barrier's decay rate: the closing speed allowed per metre of margin
    reach: float = 0.5       # m beyond `distance` (`clearance`) within which a neighbour (obstacle) counts
    obstacles: Sequence[Any] = ()   # static obstacles with `distance(points)` (`trajectory.obstacles`), 2-D
    clearance: float = 0.0   # m, the distance kept from the obstacles
    max_speed: float = 5.0   # m/s per axis of a relaxed command (squeezed, or bounds met only far away)

    def __post_init__(self) -> None:
        for name in ("distance", "rate", "reach", "max_speed"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be positive, got {value}")
        if not (math.isfinite(self.clearance) and self.clearance >= 0):
            raise ValueError(f"clearance: must be >= 0, got {self.clearance}")
        object.__setattr__(self, "obstacles", tuple(self.obstacles))

    def command(self, nominal: np.ndarray, position: np.ndarray, neighbours: np.ndarray,
                velocities: np.ndarray, on_plan: bool = False, disturbance: np.ndarray | None = None) -> np.ndarray:
        """v* (m,) for the nominal command `nominal` (m,) of the robot at `position` (m,), with its
        neighbours' positions and velocities (k, m); `on_plan`: the robot follows its plan within the
        tracking tolerance; `disturbance` (m,): the velocity the robot moves at beyond its commands (a push,
        `DisturbanceEstimate`), which the obstacle rows then counter (module docstring). Returns `nominal` itself
        when no neighbour is in reach or it already satisfies every row."""
        nominal = np.asarray(nominal, dtype=float)
        rows, bounds, static = self.constraints(position, neighbours, velocities)
        if disturbance is not None and len(rows):   # n_O . (v + d) >= b_O: an obstacle cannot give way
            bounds = bounds - static * (rows @ np.asarray(disturbance, dtype=float))
        if on_plan and len(rows):
            bounds = np.where(static, np.minimum(bounds, rows @ nominal), bounds)
        if not len(rows) or np.all(rows @ nominal >= bounds):
            return nominal
        projected = _projection(nominal, rows, bounds)
        if projected is not None:
            return projected
        for relaxed in (~static, np.ones(len(rows), dtype=bool)):
            relaxation = _least_relaxation(rows, bounds, relaxed, self.max_speed)
            if relaxation is not None:
                slack, point = relaxation
                projected = _projection(nominal, rows, bounds - relaxed * (slack + 1e-9))
                return point if projected is None else projected
        raise AssertionError("unreachable: relaxing every bound always gives a point")

    def constraints(self, position: np.ndarray, neighbours: np.ndarray,
                    velocities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(G, b, static): one row n_j, bound n_j . v_j - rate h_j per neighbour within reach (coincident
        ones, with no direction to leave by, are skipped), then one per obstacle within reach, which
        `static` (bool per row) marks."""
        position = np.asarray(position, dtype=float)
        offsets = position[None, :] - np.asarray(neighbours, dtype=float).reshape(-1, len(position))
        distances = np.linalg.norm(offsets, axis=1)
        near = (distances < self.distance + self.reach) & (distances > 1e-9)
        rows = offsets[near] / distances[near, None]
        velocities = np.asarray(velocities, dtype=float).reshape(-1, len(position))[near]
        bounds = np.einsum("ij,ij->i", rows, velocities) - self.rate * (distances[near] - self.distance)
        if not self.obstacles or len(position) != 2:
            return rows, bounds, np.zeros(len(rows), dtype=bool)
        probes = position + np.array([[0.0, 0.0], [EPS, 0.0], [-EPS, 0.0], [0.0, EPS], [0.0, -EPS]])
        obstacle_rows, obstacle_bounds = [], []
        for obstacle in self.obstacles:
            d = obstacle.distance(probes)
            if d[0] < self.clearance + self.reach:
                gradient = np.array([d[1] - d[2], d[3] - d[4]]) / (2 * EPS)
                obstacle_rows.append(gradient / max(np.linalg.norm(gradient), 1e-12))
                obstacle_bounds.append(-self.rate * (d[0] - self.clearance))
        static = np.r_[np.zeros(len(rows), dtype=bool), np.ones(len(obstacle_rows), dtype=bool)]
        return np.vstack([rows, *obstacle_rows]) if obstacle_rows else rows, np.r_[bounds, obstacle_bounds], static


def _projection(nominal: np.ndarray, rows: np.ndarray, bounds: np.ndarray) -> np.ndarray | None:
    """The point of {v : G v >= b} closest to `nominal`, or None when the set is empty. Candidates are the
    projections onto every face G_S v = b_S of at most m linearly independent rows S,
    v = v_nom + G_S^T lambda with G_S G_S^T lambda = b_S - G_S v_nom; the closest feasible one is the optimum."""
    best, best_distance = None, np.inf
    for size in range(1, min(len(nominal), len(rows)) + 1):
        for face in itertools.combinations(range(len(rows)), size):
            g = rows[list(face)]
            gram = g @ g.T
            if np.linalg.cond(gram) > 1e8:
                continue
            point = nominal + g.T @ np.linalg.solve(gram, bounds[list(face)] - g @ nominal)
            distance = np.linalg.norm(point - nominal)
            if distance < best_distance and np.all(rows @ point >= bounds - 1e-9):
                best, best_distance = point, distance
    return best


def _least_relaxation(rows: np.ndarray, bounds: np.ndarray, relaxed: np.ndarray,
                      max_speed: float) -> tuple[float, np.ndarray] | None:
    """(t*, v*): t* = min t s.t. G_k v + t >= b_k for the `relaxed` rows k, G_k v >= b_k for the others,
    |v|_inf <= max_speed, and a v* that attains it; None when the others alone do not meet (HiGHS through
    scipy's linprog). The speed bound keeps nearly parallel rows from being met only far away."""
    dim = rows.shape[1]
    result = linprog(np.r_[np.zeros(dim), 1.0], A_ub=-np.c_[rows, relaxed.astype(float)], b_ub=-bounds,
                     bounds=[(-max_speed, max_speed)] * dim + [(0.0, None)], method="highs")
    return (float(result.x[-1]), result.x[:dim]) if result.status == 0 else None


@dataclass
class DisturbanceEstimate:
    """d = v_measured - v_expected, the velocity a robot moves at beyond what its commands explain: v_expected
    follows the commands through the velocity loop's first-order lag, v_e' = (v_cmd - v_e) / lag (the
    model of `TrackingLaw` and the simulator). Estimates below `deadband` (m/s: odometry noise, model
    error) are zero, larger ones are cut to `limit`."""

    lag: float = 0.1
    deadband: float = 0.1
    limit: float = 1.0           # m/s: the largest disturbance countered
    expected: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("lag", "deadband", "limit"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be positive, got {value}")

    def estimate(self, measured: np.ndarray) -> np.ndarray:
        """d for the measured velocity (m,); the first call takes the measured velocity as the expected one."""
        measured = np.asarray(measured, dtype=float)
        if self.expected is None or self.expected.shape != measured.shape:
            self.expected = measured.copy()
        disturbance = measured - self.expected
        size = float(np.linalg.norm(disturbance))
        if size < self.deadband:
            return np.zeros_like(disturbance)
        return disturbance * min(1.0, self.limit / size)

    def commanded(self, command: np.ndarray, dt: float) -> None:
        """The robot was commanded `command` (m,) for the next `dt` seconds (exact for a held command)."""
        command = np.asarray(command, dtype=float)
        if self.expected is None or self.expected.shape != command.shape:
            self.expected = command.copy()
            return
        self.expected = command + (self.expected - command) * math.exp(-dt / self.lag)
