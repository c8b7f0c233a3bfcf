"""CDS path sweep (thesis Alg. 3 with the relay of eq. 4.5, optionally EAS per stage) on a small 2-D fleet.

Five agents start in a row and meet in a disc of radius 1 with r_min = 0.3 (collision coupling, eq. 5.8,
5.15-5.16); the path graph 0-1-2-3-4 has the dominating path (1, 2, 3), so the sweep has three stages:
S_1 = {0, 1, 2}, then {3} with F_0 fixed, then {4} with F_1 = {0, 1, 2, 3} fixed.
"""
import asyncio
import dataclasses

import numpy as np
import pytest

from dro_ros.core.carrier import MessageMeta
from dro_ros.core.topology import Topology, TopologyError
from dro_ros.graph.cds import sweep_path
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.outcome import FleetStatus
from dro_ros.trajectory.path_sweep import PathSweepAgent, Provisional, run_path_sweep
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem
from dro_ros.trajectory.scenarios import Scenario, formation2d, scenario_from_config
from dro_ros.trajectory.stage import Stage

INITIAL = [(0, 0, 1, 0.5), (1, 0, 1, 0.3), (2, 0, 1, 0.1), (3, 0, 1, -0.1), (4, 0, 1, -0.3)]
LINE = Topology.from_edges(5, [(0, 1), (1, 2), (2, 3), (3, 4)])


def fleet(terminals=None) -> FleetProblem:
    disc = BallTerminal(centre=np.array([12.0, 2.0]), radius=1.0, velocity=np.array([1.0, 0.0]))
    return FleetProblem(dim=2, horizon=40, step=0.25, initial=np.array(INITIAL, dtype=float),
                        terminals=terminals or (disc,) * 5, r_min=0.3, coupling="collision", max_speed=2.0,
                        max_input=1.0, name="row5")


@pytest.fixture(scope="module")
def scenario():
    return Scenario(fleet(), LINE)


@pytest.fixture(scope="module")
def centralized(scenario):
    return solve_centralized(scenario.problem)


@pytest.fixture(scope="module")
def sweep(scenario):
    return run_path_sweep(scenario)


@pytest.fixture(scope="module")
def eas_sweep(scenario):
    return run_path_sweep(scenario, eas=EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100))


def test_sweep_is_feasible_and_within_half_a_percent_of_the_centralized_cost(sweep, centralized):
    assert sweep.status is FleetStatus.SOLVED and sweep.max_violation <= 1e-6
    assert sweep.objective == pytest.approx(centralized.objective, rel=5e-3)   # measured: +0.37 %


def test_sweep_with_eas_is_feasible_and_within_half_a_percent_of_the_centralized_cost(eas_sweep, centralized):
    assert eas_sweep.status is FleetStatus.SOLVED and eas_sweep.max_violation <= 1e-6
    assert eas_sweep.objective == pytest.approx(centralized.objective, rel=5e-3)   # measured: +0.37 %
    rows = eas_sweep.details["stages"]
    assert all(row.n_active <= row.n_working < row.n_constraints and row.eas_rounds >= 1 for row in rows)


def test_sweep_visits_the_path_nodes_in_order(sweep):
    rows = sweep.details["stages"]
    assert sweep.details["path"] == (1, 2, 3) and sweep.rounds == 3
    assert [row.agent for row in rows] == [1, 2, 3] and [row.free for row in rows] == [(0, 1, 2), (3,), (4,)]
    for before, after in zip(rows, rows[1:]):
        assert after.started >= before.started + before.seconds


def test_last_path_node_receives_every_fixed_solution_relayed_before_each_solve(sweep):
    rows = sweep.details["stages"]
    relayed, new = sweep.details["arrivals"][3]
    assert relayed.sender == new.sender == 2
    assert relayed.stage == 0 and set(relayed.agents) == {0, 1, 2} and new.agents == (3,)
    assert relayed.ready <= rows[1].started   # agent 2 passed F_0 on before its own solve


def test_infeasible_stage_is_reported_with_its_agent_and_stage():
    terminals = list(fleet().terminals)
    terminals[0] = FixedTerminal(position=np.array([12.0, 2.0]), velocity=np.array([1.0, 0.0]))
    terminals[4] = FixedTerminal(position=np.array([12.1, 2.0]), velocity=np.array([1.0, 0.0]))  # < r_min
    result = run_path_sweep(Scenario(fleet(tuple(terminals)), LINE))
    assert result.status is FleetStatus.STAGE_FAILED
    assert "stage 2 at agent 3: infeasible" in result.failure
    assert result.details["unfinished"] == {"robot_4": ["robot_3"]}


SPIDER = Topology.from_edges(7, [(0, 1), (1, 2), (0, 3), (3, 4), (0, 5), (5, 6)])


@pytest.mark.parametrize("graph, n, path, message", [
    (SPIDER, 7, None, "no connected dominating set that induces a path"),
    (LINE, 5, (1, 2), "does not dominate node 4"),
    (LINE, 5, (1, 3), "not adjacent"),
    (Topology.from_edges(5, [(0, 1), (1, 2), (3, 4)]), 5, None, "disconnected"),
    (LINE, 6, None, "5 nodes but problem"),
])
def test_bad_graph_or_path_is_refused_before_any_solve(graph, n, path, message, monkeypatch):
    monkeypatch.setattr(Stage, "solve", lambda *args, **kwargs: pytest.fail("a stage was solved"))
    problem = dataclasses.replace(fleet(), initial=np.array([(k, 0, 1, 0) for k in range(n)], dtype=float),
                                  terminals=fleet().terminals[:1] * n)
    with pytest.raises(TopologyError, match=message):
        run_path_sweep(Scenario(problem, graph), path=path)


def test_next_path_node_speculates_on_the_roots_provisional_solutions(scenario, eas_sweep):
    plain = run_path_sweep(scenario, eas=EasParameters(), speculate=False)
    speculations = {row.agent: row.speculations for row in eas_sweep.details["stages"]}
    assert speculations == {1: 0, 2: 1, 3: 0}   # the root's first round is within epsilon_bar of feasible
    assert {row.agent: row.speculations for row in plain.details["stages"]} == {1: 0, 2: 0, 3: 0}
    assert eas_sweep.objective == pytest.approx(plain.objective, rel=1e-9)


def test_speculation_shortens_the_solve_after_the_final_solutions_arrive_on_formation2d():
    scenario = formation2d()
    eas = EasParameters(**scenario.eas)
    runs = {speculate: run_path_sweep(scenario, eas=eas, speculate=speculate) for speculate in (True, False)}
    second = {speculate: run.details["stages"][1] for speculate, run in runs.items()}
    assert second[True].speculations == 1 and second[False].speculations == 0
    assert second[True].iterations < second[False].iterations / 2      # measured: 18 against 94
    assert runs[True].objective == pytest.approx(runs[False].objective, rel=1e-6)
    assert runs[True].max_violation <= 1e-6


@pytest.mark.parametrize("sender, agents, shape, message", [
    ("robot_3", [0], (1, 40, 2), "provisional solutions from robot_3, which is not its parent"),
    ("robot_1", [9], (1, 40, 2), "provisional inputs for unknown agents"),
    ("robot_1", [0], (1, 39, 2), "provisional inputs from robot_1 have shape"),
])
def test_a_malformed_provisional_message_is_refused_naming_what_is_wrong(scenario, sender, agents, shape, message):
    sweep = sweep_path(LINE, (1, 2, 3))
    agent = PathSweepAgent(scenario.problem, sweep, 2, [f"robot_{i}" for i in range(5)], EasParameters())
    content = Provisional(stage=0, agents=np.array(agents), inputs=np.zeros(shape), ready=0.0)
    meta = MessageMeta(sender=sender, receiver="robot_2", type="cds_sweep/Provisional", problem_id="t",
                       message_id=1, in_reply_to=0, iteration=-1, stamp_ns=0, nbytes=0)
    with pytest.raises(ValueError, match=message):
        asyncio.run(agent.on_exchange_message(None, content, meta))


def test_a_link_outage_drops_the_robots_messages_and_a_sweep_reports_whom_it_waits_for():
    """`NetworkModel.outages`: robot_1's links cut for the whole run. The path sweep cannot finish; the run
    ends quiescent, the agents downstream naming whom they wait for, and the lost messages are counted."""
    from dro_ros.core.simple import NetworkModel, Outage
    from dro_ros.trajectory import EasParameters, run_path_sweep, scenario_from_config

    scenario = scenario_from_config({
        "name": "line3", "dim": 2, "horizon": 20, "duration": 10.0, "r_min": 0.2, "max_speed": 1.0,
        "max_input": 0.5, "initial": [[0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0]],
        "terminal": [{"kind": "fixed", "position": [p, 2], "velocity": [0, 0]} for p in (2, 1, 0)],
        "communication": {"edges": [[0, 1], [1, 2]]}})
    cut = NetworkModel(delay=0.05, outages=(Outage("robot_1", 0.0, 1e9),))
    result = run_path_sweep(scenario, eas=EasParameters(), network=cut)
    assert not result.ok
    unfinished = result.details["unfinished"]
    assert unfinished and any("robot_1" in waiting for waiting in unfinished.values())
    delayed = run_path_sweep(scenario, eas=EasParameters(), network=NetworkModel(delay=(0.02, 0.05), seed=1))
    assert delayed.ok



CONNECTOR = Topology.from_edges(9, [(0, 1), (0, 2), (2, 3), (2, 5), (3, 4), (3, 6), (6, 5), (5, 7), (7, 8)])
"""Its shortest dominating path is (0, 2, 3, 6, 5, 7): 3 and 7 must be on it (for the leaves 4 and 8), and
3 reaches 5 only through 6, whose neighbours 3 and 5 are decided before its turn (S̄_6 is empty)."""


@pytest.mark.parametrize("eas", [None, EasParameters()], ids=["full", "eas"])
def test_a_path_node_with_nothing_left_to_decide_relays_and_the_sweep_matches_the_centralized_cost(eas):
    rows = np.array([(0.0, 1.0 * k, 1.0, 0.0) for k in range(9)])
    goals = tuple(FixedTerminal(position=np.array([4.0, 1.0 * k]), velocity=np.zeros(2)) for k in range(9))
    problem = FleetProblem(dim=2, horizon=20, step=0.25, initial=rows, terminals=goals, r_min=0.3,
                           coupling="collision", max_speed=2.0, max_input=1.0, name="connector9")
    run = run_path_sweep(Scenario(problem, CONNECTOR), eas=eas)
    assert run.ok, run.failure
    assert run.details["path"] == (0, 2, 3, 6, 5, 7)
    assert 6 not in {row.agent for row in run.details["stages"]}     # the connector solved nothing
    assert run.objective == pytest.approx(solve_centralized(problem).objective, rel=1e-6)


def test_a_warm_started_stage_learns_its_working_set_while_it_waits_and_solves_in_one_round():
    """A window of `dro-ros bench mpc` (t = 3 s: eight robots, path of three stages, warm-started from the
    shifted plans). The stages after the root learn, while they wait, the rows their first EAS round
    would miss (`StageSolver._expected_working_set`), so each solves in one round; without that, each took
    two rounds and a solver built on the critical path. The sweep's cost is the centralized one."""
    import json
    from pathlib import Path

    window = scenario_from_config(json.loads((Path(__file__).parent / "data" / "window_formation_three_stages.json")
                                             .read_text()))
    eas = EasParameters(**window.eas)
    result = run_path_sweep(window, eas=eas)
    assert result.ok
    later = [row for row in result.details["stages"] if row.stage > 0]
    assert len(later) == 2 and all(row.eas_rounds == 1 for row in later)
    centralized = solve_centralized(window.problem, eas=eas, guess=window.guess)
    assert result.objective == pytest.approx(centralized.objective, rel=1e-6)
