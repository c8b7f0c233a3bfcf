"""CDS branch sweep (thesis Alg. 2 with the early forward of eq. 4.3) on small platoons (Sec. 5.1)."""
import dataclasses

import pytest

from dro_ros.core.simple import NetworkModel
from dro_ros.core.topology import Topology, TopologyError, ring
from dro_ros.trajectory.branch_sweep import run_branch_sweep
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import InfeasibleProblem
from dro_ros.trajectory.outcome import FleetStatus
from dro_ros.trajectory.scenarios import platoon
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
    assert sweep.objective == pytest.approx(centralized.solve.objective, rel=1e-3)   # measured: 1.6e-5


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
