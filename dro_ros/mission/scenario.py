"""The problem a goal is planned as: the fleet config's scenario, re-posed from the robots' live states.

From the config's scenario a mission keeps the robots' model and limits (dim, step, r_min, coupling,
v_bar, u_bar), the static obstacles with their clearance, the algorithm settings (EAS, CDS-BS root and
prediction) and the communication rule; from the live fleet it takes every robot's position and velocity
at the planning instant as x_i(0); from the goal the terminal sets and, if given, T. The communication
graph is recomputed from the current positions when the config gives a radius (eq. 5.13), so the CDS path
is searched again; explicit edges, and a path fixed on them, are kept.

The result is a scenario config (plain JSON-able data, the format of `dro_ros.trajectory.scenarios`), the
form every agent receives in its start request.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from dro_ros.mission.goal import DiscTarget, GoalError, MissionGoal
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config


def mission_scenario(base_config: dict[str, Any], goal: MissionGoal, states: np.ndarray,
                     separation_tolerance: float = 0.0) -> dict[str, Any]:
    """The scenario config for `goal` from the states x_i(0) (N, 2m) in fleet order.

    Robots that ended a plan exactly r_min apart are measured slightly closer after tracking it. When the
    smallest start separation falls short of r_min by at most `separation_tolerance`, the mission keeps
    that separation instead (its r_min is the start's): no plan can restore r_min in the first step, and
    the executed run is verified against r_min - `separation_tolerance` anyway."""
    base = scenario_from_config(base_config)
    problem = base.problem
    states = np.asarray(states, dtype=float)
    if states.shape != problem.initial.shape:
        raise GoalError(f"states: expected {problem.initial.shape} (robots x position, velocity), got {states.shape}")
    duration = goal.duration or problem.horizon * problem.step
    horizon = max(1, int(round(duration / problem.step)))
    config: dict[str, Any] = {
        "name": problem.name, "dim": problem.dim, "horizon": horizon, "duration": horizon * problem.step,
        "r_min": _reachable_r_min(problem, states, separation_tolerance), "coupling": problem.coupling, "max_speed": problem.max_speed,
        "max_input": problem.max_input, "initial": states.tolist(), "terminal": _terminal(goal),
        "communication": _communication(base_config, base)}
    if problem.obstacles:   # the world's obstacles stay where they are for every mission
        config["obstacles"] = [o.to_config() for o in problem.obstacles]
        config["clearance"] = problem.clearance
    sweep = _sweep(base_config, base)
    if sweep:
        config["sweep"] = sweep
    if base.eas:
        config["eas"] = dict(base.eas)
    return config


def _reachable_r_min(problem: FleetProblem, states: np.ndarray, tolerance: float) -> float:
    """r_min, or the smallest start gap of a coupled pair when it is short of r_min by at most `tolerance`."""
    positions = states[:, :problem.dim]
    gaps = [positions[j, 0] - positions[i, 0] if problem.coupling == "ordering"
            else float(np.linalg.norm(positions[j] - positions[i])) for i, j in problem.coupled_pairs()]
    smallest = min(gaps, default=problem.r_min)
    return float(smallest) if problem.r_min - tolerance <= smallest < problem.r_min else problem.r_min


def _terminal(goal: MissionGoal) -> Any:
    target = goal.target
    if isinstance(target, DiscTarget):
        return {"kind": "ball", "centre": target.centre.tolist(), "radius": target.radius,
                "velocity": target.velocity.tolist()}
    rest = [0.0] * target.positions.shape[1]
    if target.radius > 0:
        return [{"kind": "ball", "centre": p.tolist(), "radius": target.radius, "velocity": rest}
                for p in target.positions]
    return [{"kind": "fixed", "position": p.tolist(), "velocity": rest} for p in target.positions]


def _communication(base_config: dict[str, Any], base: Scenario) -> dict[str, Any]:
    radius = (base_config.get("communication") or {}).get("radius")
    return {"radius": float(radius)} if radius is not None else {"edges": [list(e) for e in base.graph.edges]}


def _sweep(base_config: dict[str, Any], base: Scenario) -> dict[str, Any]:
    sweep: dict[str, Any] = {}
    fixed_graph = "radius" not in (base_config.get("communication") or {})
    if base.path is not None and fixed_graph:
        sweep["path"] = list(base.path)
    if base.root is not None and fixed_graph:
        sweep["root"] = base.root
    if base.prediction is not None:
        sweep["prediction"] = base.prediction
    return sweep
