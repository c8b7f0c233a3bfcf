"""The execution summary measures terminal sets and separation as the checker does (`trajectory.constraints`)."""
import numpy as np
import pytest

from dro_ros.fleet.plan import Plan
from dro_ros.fleet.summary import Track, summarize
from dro_ros.trajectory.checker import check
from dro_ros.trajectory.problem import FixedTerminal, FleetProblem


def test_robots_at_rest_miss_the_terminal_and_the_separation_by_what_the_checker_reports():
    initial = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    terminals = (FixedTerminal(np.array([3.0, 4.0]), np.zeros(2)), FixedTerminal(np.array([1.0, 0.0]), np.zeros(2)))
    problem = FleetProblem(dim=2, horizon=10, step=0.1, initial=initial, terminals=terminals, r_min=1.5,
                           coupling="collision", max_speed=None, max_input=None)
    rest = np.zeros((2, 10, 2))
    states = check(problem, rest).states
    plans = {i: Plan(robot=f"robot_{i}", step=0.1, position=states[i, :, :2], velocity=states[i, :, 2:],
                     input=rest[i], cost=0.0, run_id="rest") for i in range(2)}
    times = 0.1 * np.arange(11)
    tracks = {i: Track(times, states[i, :, :2], states[i, :, 2:]) for i in range(2)}
    summary = summarize(problem, plans, tracks)
    report = check(problem, rest)
    assert summary.terminal_violation == pytest.approx(report.violations["terminal_position"]) == pytest.approx(5.0)
    assert problem.r_min - summary.min_separation == pytest.approx(report.violations["collision"])
    assert not summary.ok and "separation 1.0000 m < r_min 1.5 m" in summary.problems[0]


def test_an_executed_path_through_an_obstacles_clearance_is_measured_as_the_checker_does():
    from dro_ros.trajectory.obstacles import DiscObstacle

    initial = np.array([[0.0, 0.0, 1.0, 0.0]])
    problem = FleetProblem(dim=2, horizon=10, step=0.1, initial=initial,
                           terminals=(FixedTerminal(np.array([1.0, 0.0]), np.array([1.0, 0.0])),), r_min=0.2,
                           obstacles=(DiscObstacle([0.5, 0.15], 0.1),))   # clearance 0.1: passes 0.05 m from it
    coast = np.zeros((1, 10, 2))
    states = check(problem, coast).states
    plans = {0: Plan(robot="robot_0", step=0.1, position=states[0, :, :2], velocity=states[0, :, 2:],
                     input=coast[0], cost=0.0, run_id="coast")}
    tracks = {0: Track(0.1 * np.arange(11), states[0, :, :2], states[0, :, 2:])}
    summary = summarize(problem, plans, tracks)
    assert summary.min_obstacle_distance == pytest.approx(0.05)
    assert problem.clearance - summary.min_obstacle_distance == pytest.approx(check(problem, coast).violations["obstacle"])
    assert any("obstacle distance 0.0500 m < clearance 0.1" in p for p in summary.problems)
