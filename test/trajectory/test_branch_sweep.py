"""CDS branch sweep (thesis Alg. 2 with the early forward of eq. 4.3) on small platoons (Sec. 5.1)."""
import dataclasses

import numpy as np
import pytest

from dro_ros.core.simple import NetworkModel
from dro_ros.core.topology import Topology, TopologyError, ring
from dro_ros.trajectory.branch_sweep import run_branch_sweep
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import InfeasibleProblem, check
from dro_ros.trajectory.outcome import FleetStatus
from dro_ros.trajectory.prediction import predict
from dro_ros.trajectory.problem import ProblemError
from dro_ros.trajectory.scenarios import platoon, scenario_from_config
from dro_ros.trajectory.stage import Stage


@pytest.fixture(scope="module")
def scenario():
    return platoon(5, horizon=40, duration=20.0, limits=False)   # path graph, root v0 = N/2: index 1


@pytest.fixture(scope="module")
def sweep(scenario):
    return run_branch_sweep(scenario, network=NetworkModel(delay=0.01))


def test_sweep_is_feasible_and_within_a_thousandth_of_the_centralized_cost(scenario, sweep):
    centralized = solve_centralized(scenario.problem)
    assert sweep.status is FleetStatus.SOLVED and sweep.max_violation <= 1e-6
    assert sweep.objective == pytest.approx(centralized.objective, rel=1e-3)   # measured: 1.6e-5


def test_stages_equal_the_tree_height_from_the_root(scenario, sweep):
    depth = scenario.graph.hop_distances(scenario.root)
    assert sweep.details["root"] == scenario.root
    assert sweep.rounds == max(depth) == 3
    assert [(row.stage, row.agent) for row in sweep.details["stages"]] == [(0, 1), (1, 2), (2, 3)]


def test_child_gets_its_parents_solution_before_the_parents_solve(sweep):
    parent_solve = next(row for row in sweep.details["stages"] if row.agent == 2)
    early, late = sweep.details["arrivals"][3]
    assert early.agents == (2,) and early.ready == pytest.approx(parent_solve.started)
    assert late.agents == (3,) and late.ready == pytest.approx(parent_solve.started + parent_solve.seconds)


@pytest.mark.parametrize("graph, message", [
    (ring(5), "not a tree"),
    (Topology.from_edges(5, [(0, 1), (1, 2), (3, 4)]), "disconnected"),
    (Topology.from_edges(4, [(0, 1), (1, 2), (2, 3)]), "4 nodes but problem"),
])
def test_bad_graph_is_refused_before_any_solve(scenario, graph, message, monkeypatch):
    monkeypatch.setattr(Stage, "solve", lambda *args, **kwargs: pytest.fail("a stage was solved"))
    with pytest.raises(TopologyError, match=message):
        run_branch_sweep(dataclasses.replace(scenario, graph=graph))


def test_stated_platoon_data_are_refused_as_infeasible_before_any_solve():
    with pytest.raises(InfeasibleProblem, match="agents 1 and 4 close at 6 m/s"):
        run_branch_sweep(platoon(4, horizon=40, duration=20.0, limits=True))   # u_bar = 0.2 cannot brake


def test_infeasible_root_stage_is_reported_and_every_other_agent_waits_for_its_parent():
    scenario = platoon(4, horizon=40, duration=20.0, limits=False)
    terminals = list(scenario.problem.terminals)
    terminals[0], terminals[1] = terminals[1], terminals[0]   # agents 1 and 2 must end in the wrong order
    problem = dataclasses.replace(scenario.problem, terminals=tuple(terminals))
    result = run_branch_sweep(dataclasses.replace(scenario, problem=problem))
    assert result.status is FleetStatus.STAGE_FAILED
    assert "stage 0 at agent 1: infeasible" in result.failure
    assert result.details["unfinished"] == {"robot_0": ["robot_1"], "robot_2": ["robot_1"], "robot_3": ["robot_2"]}


# --- CDS-BS refining a coarse prediction (trajectory.prediction) -------------------------------------
@pytest.fixture(scope="module")
def long_platoon():
    """N = 8 over the thesis's T = 100 s on a coarser grid: the plain sweep is 1.4 % above the optimum."""
    return platoon(8, horizon=200, duration=100.0, limits=False)


def test_prediction_closes_the_greedy_gap_of_the_plain_sweep(long_platoon):
    optimum = solve_centralized(long_platoon.problem).objective
    plain = run_branch_sweep(long_platoon)
    refined = run_branch_sweep(long_platoon, prediction=10)
    assert refined.status is FleetStatus.SOLVED and refined.max_violation <= 1e-6
    assert plain.objective > 1.005 * optimum                       # greedy stages lose
    assert refined.objective == pytest.approx(optimum, rel=1e-4)   # measured: 4.4e-5
    assert refined.details["prediction"] == 10


def test_refined_sweep_costs_at_most_its_prediction(long_platoon):
    problem = long_platoon.problem
    predicted = np.repeat(predict(problem, 10), 10, axis=1)
    report = check(problem, predicted)
    assert report.max_violation <= 1e-9                          # feasible on the fine grid (margin on r_min)
    assert run_branch_sweep(long_platoon, prediction=10).objective <= report.objective + 1e-9


def test_prediction_travels_down_the_tree_with_the_first_message(long_platoon):
    result = run_branch_sweep(long_platoon, prediction=10)
    root = long_platoon.root
    stages = {row.agent: row for row in result.details["stages"]}
    assert stages[root].fixed == (root - 2, root + 2)             # the next generation, predicted
    assert stages[root + 1].fixed == (root + 1, root, root + 3)   # me, parent, predicted grandchild


def test_a_prediction_factor_that_does_not_divide_the_horizon_is_refused_before_any_solve(long_platoon, monkeypatch):
    monkeypatch.setattr(Stage, "solve", lambda *args, **kwargs: pytest.fail("a stage was solved"))
    with pytest.raises(ValueError, match="horizon 200 is not a multiple of the factor 30"):
        run_branch_sweep(long_platoon, prediction=30)


def test_prediction_comes_from_the_config():
    config = {"family": "platoon", "n": 4, "horizon": 100, "limits": False, "sweep": {"prediction": 20}}
    assert scenario_from_config(config).prediction == 20
    with pytest.raises(ProblemError, match="sweep.prediction: expected a positive integer"):
        scenario_from_config({**config, "sweep": {"prediction": 0}})
