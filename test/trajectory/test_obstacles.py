"""Static obstacles: exact distances, config errors, the pre-solve diagnosis, and every solver keeping the
clearance where the unobstructed optimum does not."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from dro_ros.trajectory import (DiscObstacle, EasParameters, InfeasibleProblem, PolygonObstacle, ProblemError,
                                check, diagnose, load_scenario, run_branch_sweep, run_nc_admm, run_path_sweep,
                                scenario_from_config, solve_centralized)
from dro_ros.trajectory.obstacles import SMOOTHING, ObstacleError, distances
from dro_ros.trajectory.stage import Stage

CONFIG = Path(__file__).resolve().parents[2] / "config" / "trajectory" / "formation4_obstacles.yaml"
SQUARE = [[0, 0], [2, 0], [2, 1], [0, 1]]


def _boundary_distance(vertices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Brute force: the distance to 4,000 points on each edge."""
    samples = np.concatenate([a + np.linspace(0, 1, 4000)[:, None] * (b - a)
                              for a, b in zip(vertices, np.roll(vertices, -1, axis=0))])
    return np.min(np.linalg.norm(points[:, None] - samples[None], axis=-1), axis=1)


def test_polygon_distance_is_the_exact_euclidean_distance_outside_and_minus_the_depth_inside():
    polygon = PolygonObstacle(SQUARE)
    points = np.random.default_rng(3).uniform(-2, 4, size=(300, 2))
    inside = (points[:, 0] > 0) & (points[:, 0] < 2) & (points[:, 1] > 0) & (points[:, 1] < 1)
    brute = _boundary_distance(polygon.vertices, points)
    np.testing.assert_allclose(polygon.distance(points), np.where(inside, -brute, brute), atol=1e-3)


def test_clockwise_vertices_give_the_same_polygon():
    clockwise = PolygonObstacle(SQUARE[::-1])
    np.testing.assert_allclose(clockwise.distance([[3.0, 0.5]]), [1.0])
    assert np.all(clockwise.normals @ np.array([1.0, 0.5]) - clockwise.offsets < 0)   # the centre is inside


@pytest.mark.parametrize("vertices, message", [
    ([[0, 0], [2, 0], [1, 0.2], [2, 1], [0, 1]], "not strictly convex"),
    ([[0, 0], [1, 0]], "at least 3"),
    ([[0, 0], [0, 0], [1, 1]], "coincide"),
])
def test_a_bad_polygon_is_rejected_naming_its_vertices(vertices, message):
    with pytest.raises(ObstacleError, match=message):
        PolygonObstacle(vertices)


def test_a_bad_obstacle_in_a_config_names_its_place_and_field():
    config = load_scenario(CONFIG)  # noqa: F841  (the file itself loads)
    base = {"dim": 2, "horizon": 10, "duration": 1.0, "r_min": 0.2, "initial": [[0, 0, 0, 0]],
            "terminal": {"kind": "fixed", "position": [1, 0], "velocity": [0, 0]}, "communication": {"radius": 1}}
    with pytest.raises(ProblemError, match=r"obstacles\[1\]\.radius: must be positive"):
        scenario_from_config({**base, "obstacles": [{"kind": "disc", "centre": [5, 5], "radius": 1},
                                                    {"kind": "disc", "centre": [5, 5], "radius": -1}]})
    with pytest.raises(ProblemError, match=r"obstacles\[0\]\.kind: expected 'disc' or 'polygon'"):
        scenario_from_config({**base, "obstacles": [{"kind": "cone"}]})
    with pytest.raises(ProblemError, match=r"obstacles\[0\]\.vertices: the polygon is not strictly convex"):
        scenario_from_config({**base, "obstacles": [{"kind": "polygon",
                                                     "vertices": [[0, 0], [2, 0], [1, 0.2], [2, 1], [0, 1]]}]})


def test_diagnose_proves_a_start_or_a_goal_inside_an_obstacle_infeasible():
    problem = load_scenario(CONFIG).problem
    blocked_start = dataclasses.replace(problem, obstacles=(DiscObstacle(problem.initial[2, :2] + [0.05, 0], 0.3),))
    assert any("agent 3 starts" in r.reason for r in diagnose(blocked_start))
    covered_goal = dataclasses.replace(problem, obstacles=(DiscObstacle([12, 12], 0.7),))   # ball radius 0.5
    reasons = [r.reason for r in diagnose(covered_goal)]
    assert any("whole terminal ball" in reason for reason in reasons)
    with pytest.raises(InfeasibleProblem, match="obstacle 0"):
        solve_centralized(covered_goal)


def test_the_polygon_rows_never_overestimate_the_distance():
    """The solver's polygon row is conservative, c(s) <= dist(s), and lies within log(K) * smoothing below the
    largest face distance."""
    problem = dataclasses.replace(load_scenario(CONFIG).problem, obstacles=(PolygonObstacle(SQUARE),), clearance=0.0)
    stage = Stage(problem, [0])
    rng = np.random.default_rng(5)
    inputs = rng.normal(scale=0.5, size=(problem.horizon, 2))
    parameters = stage.parameters(initial=np.array([[-1.0, 1.0, 0.1, -0.2]]))
    w = stage.guess(parameters, {0: inputs})
    family = next(f for f in stage.families if f.name == "obstacle")
    rows = stage.inequality_values(w, parameters)[family.offset:family.offset + family.rows]
    positions = stage.unpack(w, parameters)[1][0][1:, :2]
    square = PolygonObstacle(SQUARE)
    assert np.all(-rows <= square.distance(positions) + 1e-12)
    faces = np.max(positions @ square.normals.T - square.offsets, axis=1)
    assert np.all((faces + rows >= -1e-12) & (faces + rows <= np.log(4) * SMOOTHING + 1e-12))


@pytest.fixture(scope="module")
def scenario():
    scenario = load_scenario(CONFIG)
    free = dataclasses.replace(scenario.problem, obstacles=())
    unobstructed = check(scenario.problem, solve_centralized(free).inputs)
    assert unobstructed.violations["obstacle"] > 0.3   # the obstacles are in the way of the plain optimum
    return scenario


@pytest.mark.parametrize("solver", ["centralized", "centralized EAS", "CDS-PS", "CDS-PS EAS", "CDS-BS", "NC-ADMM"])
def test_every_solver_keeps_the_clearance_from_every_obstacle(scenario, solver):
    eas = EasParameters(**scenario.eas)
    run = {"centralized": lambda: solve_centralized(scenario.problem),
           "centralized EAS": lambda: solve_centralized(scenario.problem, eas=eas),
           "CDS-PS": lambda: run_path_sweep(scenario),
           "CDS-PS EAS": lambda: run_path_sweep(scenario, eas=eas),
           "CDS-BS": lambda: run_branch_sweep(scenario, root=1),
           "NC-ADMM": lambda: run_nc_admm(scenario)}[solver]
    result = run()
    assert result.ok, result.failure
    report = check(scenario.problem, result.inputs)
    assert report.violations["obstacle"] <= 1e-6
    assert report.max_violation <= 1e-5
    clearance = distances(scenario.problem.obstacles, report.states[..., :2]).min()
    assert clearance >= scenario.problem.clearance - 1e-6


def test_the_checker_names_the_agent_obstacle_and_sample_of_a_violation(scenario):
    free = dataclasses.replace(scenario.problem, obstacles=())
    report = check(scenario.problem, solve_centralized(free).inputs)
    assert report.worst["obstacle"].startswith("agent ") and "obstacle " in report.worst["obstacle"]


def test_a_robot_too_fast_to_avoid_a_disc_fails_naming_the_robot_and_the_obstacle():
    """A push's aftermath: moving at v_bar towards a disc it can neither brake for nor swerve around. The data
    pass the diagnosis (the start is clear), Ipopt cannot meet the rows, and the failure names the row."""
    config = {"name": "too_fast", "dim": 2, "horizon": 20, "duration": 5.0, "r_min": 0.2, "max_speed": 1.0,
              "max_input": 0.1, "initial": [[0, 0, 1, 0], [0, 3, 0, 0]],
              "terminal": [{"kind": "goal", "target": [5, 0], "weight": 1.0, "velocity": [0, 0]},
                           {"kind": "goal", "target": [0, 3], "weight": 1.0, "velocity": [0, 0]}],
              "communication": {"radius": 5.0},
              "obstacles": [{"kind": "disc", "centre": [1.5, 0], "radius": 0.5}], "clearance": 0.1}
    scenario = scenario_from_config(config)
    assert not diagnose(scenario.problem)
    result = solve_centralized(scenario.problem)
    assert not result.ok and "most violated: " in result.failure
    assert "agent 0" in result.failure and any(row in result.failure for row in (
        "obstacle 0", "speed", "input", "dynamics"))   # the constraint Ipopt's last point breaks most
    swept = run_path_sweep(scenario, eas=EasParameters())
    assert not swept.ok and "most violated: " in swept.failure and "agent 0" in swept.failure
