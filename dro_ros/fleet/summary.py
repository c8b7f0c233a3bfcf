"""How well a fleet executed its plans: separation, terminal errors and tracking, from recorded odometry.

Pure numpy: the supervisor node records odometry `(t, s, v)` per robot (t in seconds after the fleet
start) and hands it here with the plans and the problem; the tests drive it with synthetic records.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from dro_ros.fleet.plan import Plan
from dro_ros.trajectory.constraints import separation, terminal_position_excess
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.problem import FleetProblem

SEPARATION_TOLERANCE = 0.01   # m an executed run may fall below r_min and the clearance (tracking)


@dataclass
class Track:
    """One robot's recorded odometry: times (K,) after the start, positions and velocities (K, m)."""

    times: np.ndarray
    position: np.ndarray
    velocity: np.ndarray

    def at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (n, m) at the n `times`, linearly interpolated between samples."""
        times = np.asarray(times, dtype=float).reshape(-1)
        columns = range(self.position.shape[1])
        return (np.column_stack([np.interp(times, self.times, self.position[:, d]) for d in columns]),
                np.column_stack([np.interp(times, self.times, self.velocity[:, d]) for d in columns]))


@dataclass
class ExecutionSummary:
    """Executed separation and terminal errors; `ok` when every tolerance of `judge` holds."""

    min_separation: float            # smallest pairwise separation over the executed run (m; `constraints.separation`)
    r_min: float
    terminal_position_error: float   # max_i ||s_i(T) - s_i^plan(H)|| (m)
    terminal_velocity_error: float   # max_i ||v_i(T) - v_i^plan(H)|| (m/s)
    terminal_violation: float        # max_i distance of s_i(T) outside its terminal set (m)
    max_tracking_error: float        # max_i,t ||s_i(t) - s_i^plan(t)|| (m)
    duration: float                  # T (s)
    min_obstacle_distance: float | None = None   # smallest executed distance to an obstacle (m; None: none)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def summarize(problem: FleetProblem, plans: Mapping[int, Plan], tracks: Mapping[int, Track],
              min_distance: float | None = None, *, position_tolerance: float = 0.05,
              velocity_tolerance: float = 0.05, separation_tolerance: float = SEPARATION_TOLERANCE) -> ExecutionSummary:
    """Evaluate the run over [0, T]. `min_distance` is the simulator's own running minimum, when known;
    the separation, and the distance to each obstacle, are also measured from the odometry at the common
    sample times."""
    robots = sorted(plans)
    duration = plans[robots[0]].duration
    grid = np.arange(0.0, duration, 0.05)
    grid = np.append(grid, duration)
    positions = np.stack([tracks[i].at(grid)[0] for i in robots])  # (N, K, m)
    gaps = [separation(problem, positions[a], positions[b]).min()
            for a in range(len(robots)) for b in range(a + 1, len(robots))]
    closest = min(gaps, default=float("inf"))
    if min_distance is not None:
        closest = min(closest, min_distance)
    position_errors, velocity_errors, terminal, tracking = [], [], [], []
    for row, i in enumerate(robots):
        (s,), (v,) = tracks[i].at([duration])
        position_errors.append(float(np.linalg.norm(s - plans[i].position[-1])))
        velocity_errors.append(float(np.linalg.norm(v - plans[i].velocity[-1])))
        terminal.append(max(0.0, float(terminal_position_excess(problem.terminals[i], s))))
        reference = plans[i].reference_many(grid)[0]
        tracking.append(float(np.linalg.norm(positions[row] - reference, axis=1).max()))
    summary = ExecutionSummary(min_separation=float(closest), r_min=problem.r_min,
                               terminal_position_error=max(position_errors),
                               terminal_velocity_error=max(velocity_errors), terminal_violation=max(terminal),
                               max_tracking_error=max(tracking), duration=duration)
    if problem.obstacles:
        summary.min_obstacle_distance = float(distances(problem.obstacles, positions).min())
        if summary.min_obstacle_distance < problem.clearance - separation_tolerance:
            summary.problems.append(f"obstacle distance {summary.min_obstacle_distance:.4f} m < clearance "
                                    f"{problem.clearance} m - {separation_tolerance}")
    if closest < problem.r_min - separation_tolerance:
        summary.problems.append(f"separation {closest:.4f} m < r_min {problem.r_min} m - {separation_tolerance}")
    if summary.terminal_position_error > position_tolerance:
        summary.problems.append(f"terminal position error {summary.terminal_position_error:.4f} m "
                                f"> {position_tolerance} m")
    if summary.terminal_velocity_error > velocity_tolerance:
        summary.problems.append(f"terminal velocity error {summary.terminal_velocity_error:.4f} m/s "
                                f"> {velocity_tolerance} m/s")
    return summary
