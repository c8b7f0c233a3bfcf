"""The CasADi stage template and the external active set method (Alg. 4) against the full solve."""
from dataclasses import replace

import numpy as np
import pytest

from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import check
from dro_ros.trajectory.eas import EasParameters, select, solve_eas, threshold
from dro_ros.trajectory.obstacles import DiscObstacle
from dro_ros.trajectory.problem import BallTerminal, FleetProblem, GoalTerminal
from dro_ros.trajectory.stage import EAS_IPOPT, SolveStatus, Stage
from dro_ros.trajectory.scenarios import scenario_from_config
from dro_ros.trajectory.stage_cache import shared_stage


@pytest.fixture(scope="module")
def crossing():
    """Four agents that must swap sides through one another: collision rows bind."""
    start = [[0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 0, 0], [4, 4, 0, 0]]
    ends = [[4, 4], [0, 4], [4, 0], [0, 0]]
    terminals = tuple(BallTerminal(np.array(e, dtype=float), 0.1, np.zeros(2)) for e in ends)
    return FleetProblem(dim=2, horizon=40, step=0.5, initial=np.array(start, dtype=float), terminals=terminals,
                        r_min=1.0, max_speed=1.0, max_input=0.5, name="crossing")


def test_threshold_is_the_lower_of_delta_and_epsilon():
    values = np.array([-1.0, 0.5, 2.0, 9.0, 30.0])
    # psi_+ = 30, epsilon = 30 - 5 = 25; violated {30, 9, 2, 0.5}: delta_bar 0.5 -> 2nd largest = 9
    assert threshold(values, 5.0, 0.5) == 9.0
    assert threshold(values, 5.0, None) == 25.0            # epsilon alone (Chung, Polak, Sastry)
    assert threshold(values, 50.0, 0.5) == 0.0             # psi_+ < epsilon_bar: epsilon = 0
    assert list(select(values, 5.0, 0.5)) == [False, False, False, True, True]
    assert threshold(np.array([-2.0, -1.0]), 5.0, 0.3) == 0.0   # nothing violated


def test_a_stage_reports_its_rows_and_solves_the_full_problem(crossing):
    stage = Stage(crossing, range(4))
    assert {f.name: f.rows for f in stage.families} == {"speed": 160, "input": 160, "terminal": 4, "coupling": 240}
    result = stage.solve(stage.parameters())
    assert result.status is SolveStatus.SOLVED and result.iterations > 0
    values = stage.inequality_values(result.primal, stage.parameters())
    assert values.max() <= 1e-6
    assert np.sum(values[stage.mask("coupling")] > -1e-4) > 0     # some collision row is active


def test_eas_reaches_the_full_solve_with_a_fraction_of_the_rows(crossing):
    full = solve_centralized(crossing)
    stage = Stage(crossing, range(4), ipopt=EAS_IPOPT)
    result, report = solve_eas(stage, stage.parameters(), None, EasParameters())
    assert result.ok and full.ok and full.max_violation <= 1e-6
    assert result.objective == pytest.approx(full.objective, rel=1e-3)
    assert report.n_active <= report.n_working < report.n_constraints == 564
    assert report.rounds == len(report.history) >= 2


def test_eas_stops_after_max_rounds_without_claiming_a_solution(crossing):
    stage = Stage(crossing, range(4), ipopt=EAS_IPOPT)
    result, report = solve_eas(stage, stage.parameters(), None, EasParameters(max_rounds=1, n_iter=3))
    assert result.status is SolveStatus.ITERATION_LIMIT and report.rounds == 1


def test_an_infeasible_working_set_proves_the_stage_infeasible(crossing):
    squeezed = FleetProblem(dim=2, horizon=40, step=0.5, initial=crossing.initial,
                            terminals=(BallTerminal(np.array([2.0, 2.0]), 0.2, np.zeros(2)),) * 4,
                            r_min=1.0, name="squeezed")   # four agents in a disc of radius 0.2, 1 m apart
    stage = Stage(squeezed, range(4), ipopt=EAS_IPOPT)
    result, _ = solve_eas(stage, stage.parameters(), None, EasParameters())
    assert result.status in (SolveStatus.INFEASIBLE, SolveStatus.FAILED)
    assert not result.ok


def test_a_failed_point_names_the_constraint_it_violates_most_dynamics_included(crossing):
    stage = Stage(crossing, range(4))
    parameters = stage.parameters()
    at_rest = stage.guess(parameters)
    assert stage.most_violated(at_rest, parameters) == "most violated: terminal of agent 0 at step 40, by 32"
    result = stage.solve(parameters)
    drifted = result.primal.copy()
    drifted[stage.w.numel() - 1] += 0.5    # the last state variable: agent 3's v_y at step H
    assert stage.most_violated(drifted, parameters) == "most violated: dynamics of agent 3 at step 40, by 0.5"
    solved = stage.most_violated(result.primal, parameters)
    assert result.ok and (not solved or float(solved.rsplit(" ", 1)[1]) <= 1e-6)


def _window(shift: float) -> FleetProblem:
    """Two agents to goal targets past a disc, one traffic robot crossing: a receding horizon's window, its
    window data (starts, targets, traffic path) moved by `shift`, the obstacle in place."""
    traffic = np.column_stack([np.linspace(2.0 + shift, 2.0 + shift, 21), np.linspace(-1.0, 3.0, 21)])
    return FleetProblem(
        dim=2, horizon=20, step=0.25, initial=np.array([[0, 0, 0, 0], [0, 1, 0, 0]], dtype=float) + [shift, 0, 0, 0],
        terminals=(GoalTerminal(np.array([4.0 + shift, 1.0]), 5.0, np.zeros(2)),
                   GoalTerminal(np.array([4.0 + shift, 0.0]), 5.0, np.zeros(2))),
        r_min=0.5, max_speed=1.0, max_input=1.0, obstacles=(DiscObstacle(np.array([2.5, 0.5]), 0.3),),
        traffic=(traffic,))


def test_a_shared_stage_solves_another_window_as_a_stage_built_for_it():
    first, second = _window(0.0), _window(0.7)
    assert Stage.structure(first, [0, 1]) == Stage.structure(second, [0, 1])
    built = shared_stage(first, [0, 1], ipopt=EAS_IPOPT)
    reused = shared_stage(second, [0, 1], ipopt=EAS_IPOPT)
    assert reused._solvers is built._solvers and reused.problem is second   # compiled once, bound to the window
    fresh = Stage(second, [0, 1], ipopt=EAS_IPOPT)
    shared_result, _ = solve_eas(reused, reused.parameters(), None, EasParameters())
    fresh_result, _ = solve_eas(fresh, fresh.parameters(), None, EasParameters())
    assert shared_result.ok and fresh_result.ok
    assert shared_result.objective == pytest.approx(fresh_result.objective, rel=1e-9)
    for agent in (0, 1):
        np.testing.assert_allclose(shared_result.states[agent], fresh_result.states[agent], atol=1e-8)
    assert check(second, np.stack([shared_result.inputs[a] for a in (0, 1)])).feasible()
    moved_obstacle = replace(second, obstacles=(DiscObstacle(np.array([2.5, 0.6]), 0.3),))
    assert Stage.structure(moved_obstacle, [0, 1]) != Stage.structure(second, [0, 1])   # obstacles are built in


def test_segment_separation_keeps_r_min_between_the_samples_where_sample_separation_does_not():
    """Two robots crossing at right angles on 0.5 s steps: eq. 5.8's rows hold r_min at the samples and the
    robots pass closer in between; `separation: segments` keeps it at every instant (dense check), with
    both solvers, at a small price in effort."""
    from dro_ros.fleet.plan import rolled_out_plan
    from dro_ros.trajectory import EasParameters, run_path_sweep, scenario_from_config, solve_centralized

    def closest(problem, inputs):
        plans = [rolled_out_plan(problem, i, inputs[i], f"r{i}", "run") for i in range(problem.n_agents)]
        times = np.linspace(0.0, problem.horizon * problem.step, 4001)
        first, second = (plan.reference_many(times)[0] for plan in plans)
        return float(np.linalg.norm(first - second, axis=1).min())

    config = {"name": "crossing", "dim": 2, "horizon": 20, "duration": 10.0, "r_min": 0.3, "max_speed": 1.0,
              "max_input": 0.5, "initial": [[0, 0, 0, 0], [2, -2, 0, 0]],
              "terminal": [{"kind": "fixed", "position": [4, 0], "velocity": [0, 0]},
                           {"kind": "fixed", "position": [2, 2], "velocity": [0, 0]}],
              "communication": {"radius": 10.0}}
    sampled = scenario_from_config(config)
    segments = scenario_from_config({**config, "separation": "segments"})
    at_samples = solve_centralized(sampled.problem)
    assert at_samples.ok and closest(sampled.problem, at_samples.inputs) < 0.3 - 1e-3
    for result in (solve_centralized(segments.problem), run_path_sweep(segments, eas=EasParameters())):
        assert result.ok and closest(segments.problem, result.inputs) >= 0.3 - 1e-6
        assert result.objective <= 1.05 * at_samples.objective


def test_a_round_ipopt_ends_locally_infeasible_restarts_from_the_warm_start():
    """A window of the receding bench (`dro-ros bench mpc`'s centralized loop at t = 14 s, just after the
    push: two robots, six other robots' plans as traffic, warm-started from the shifted plans, which keep
    every row). Its second EAS round ended "locally infeasible" (traffic of agent 0 at step 35), and the
    window fell back; restarting that round from the warm start with the violated rows added solves it."""
    import json
    from pathlib import Path

    scenario = scenario_from_config(json.loads((Path(__file__).parent / "data" / "window_locally_infeasible.json")
                                               .read_text()))
    runs = {restart: solve_centralized(scenario.problem, eas=EasParameters(**scenario.eas, restart=restart),
                                       guess=scenario.guess) for restart in (False, True)}
    assert not runs[False].ok and runs[False].details["return_status"] == "Infeasible_Problem_Detected"
    restarted = runs[True]
    assert restarted.ok and check(scenario.problem, np.asarray(restarted.inputs)).feasible()
