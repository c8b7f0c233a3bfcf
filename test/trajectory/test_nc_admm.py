"""NC-ADMM (thesis Alg. 1) on SimpleCarrier: optimality against the centralized solve, both stops, the
objective split, lockstep stopping, determinism and failures."""
import asyncio

import numpy as np
import pytest

from dro_ros.core.report import RunStatus
from dro_ros.core.simple import NetworkModel, run_in_process
from dro_ros.core.topology import Topology
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.nc_admm import NcAdmmSettings, nc_admm_agents, run_nc_admm
from dro_ros.trajectory.outcome import FleetStatus, agent_names, fleet_result
from dro_ros.trajectory.problem import FixedTerminal, FleetProblem
from dro_ros.trajectory.scenarios import Scenario, platoon


def path_scenario(initial, terminal_positions, horizon=20, duration=10.0):
    """A 1-D ordering problem on a path graph, agents at rest at the end."""
    problem = FleetProblem(dim=1, horizon=horizon, step=duration / horizon, initial=np.array(initial, dtype=float),
                           terminals=tuple(FixedTerminal(np.array([p]), np.array([0.0])) for p in terminal_positions),
                           r_min=0.5, coupling="ordering")
    n = len(terminal_positions)
    return Scenario(problem, Topology.from_edges(n, [(i, i + 1) for i in range(n - 1)]))


def gap(result, reference):
    return abs(result.objective - reference) / reference


@pytest.fixture(scope="module")
def small_platoon():
    scenario = platoon(4, horizon=40, duration=20.0, limits=False)
    return scenario, solve_centralized(scenario.problem).objective


@pytest.fixture(scope="module")
def residual_run(small_platoon):
    return run_nc_admm(small_platoon[0], stop="residual", eps=1e-8)


def test_residual_stop_reaches_the_centralized_objective_and_passes_the_checker(small_platoon, residual_run):
    _, optimum = small_platoon
    assert residual_run.ok and residual_run.max_violation <= 1e-6
    assert gap(residual_run, optimum) <= 1e-4
    certified = residual_run.details["solution_iteration"]
    assert residual_run.details["stop"] == "residual" and residual_run.details["residuals"][certified - 1] <= 1e-8


def test_feasibility_stop_ends_sooner_with_a_checked_feasible_solution(small_platoon, residual_run):
    result = run_nc_admm(small_platoon[0], stop="feasible")
    assert result.ok and result.details["stop"] == "feasible"
    assert result.rounds < residual_run.rounds
    feasibility = result.details["feasibility"]
    certified = result.details["solution_iteration"]
    assert feasibility[certified - 1] <= 1e-6 < min(feasibility[:certified - 1])


def test_over_relaxation_keeps_the_optimum_and_needs_fewer_iterations(small_platoon, residual_run):
    scenario, optimum = small_platoon
    relaxed = run_nc_admm(scenario, stop="residual", eps=1e-8, relaxation=1.5)
    assert relaxed.ok and relaxed.max_violation <= 1e-6 and gap(relaxed, optimum) <= 1e-6
    assert relaxed.rounds < residual_run.rounds


def test_neighbourhood_weights_make_the_fixed_point_the_centralized_optimum():
    # agent 0 starts fast behind two agents at rest: the ordering binds and the weights matter
    scenario = path_scenario([[0.0, 3.0], [1.0, 0.0], [2.0, 0.0]], [10.0, 11.0, 12.0])
    optimum = solve_centralized(scenario.problem).objective
    degree = run_nc_admm(scenario, eps=1e-6)
    thesis = run_nc_admm(scenario, eps=1e-6, weighting="thesis")   # (2.13): f_j counted |S_j| times
    assert degree.ok and gap(degree, optimum) <= 1e-4
    assert thesis.ok and gap(thesis, optimum) >= 1e-2


def run_agents(scenario, settings, network=None):
    agents = nc_admm_agents(scenario, settings)
    report = asyncio.run(run_in_process(agents, topology=scenario.graph, network=network,
                                        addresses=agent_names(len(agents))))
    return agents, report


def test_agents_stop_together_and_message_timing_does_not_change_the_result(small_platoon):
    scenario, _ = small_platoon
    settings = NcAdmmSettings(eps=1e-6, diameter_bound=scenario.graph.diameter())
    plain, _ = run_agents(scenario, settings)
    delayed, report = run_agents(scenario, settings, NetworkModel(delay=(0.0, 0.5), seed=7))
    again, _ = run_agents(scenario, settings, NetworkModel(delay=(0.0, 0.5), seed=7))
    assert report.ok
    assert len({(a.iteration, a.solution_iteration, a.stop) for a in delayed}) == 1
    for one, other, third in zip(plain, delayed, again):
        assert np.array_equal(one.solution, other.solution) and np.array_equal(other.solution, third.solution)
        assert one.residual_parts == other.residual_parts == third.residual_parts


def test_max_iterations_bounds_the_solves_and_returns_the_last_trajectories(small_platoon):
    result = run_nc_admm(small_platoon[0], eps=1e-12, max_iterations=3)
    assert result.rounds == 3 and result.details["stop"] == "iteration_limit"
    assert result.inputs is not None and len(result.details["residuals"]) == 3


def test_an_infeasible_local_problem_is_reported_by_name_and_every_agent_stops():
    # the terminals of agents 0 and 1 are 0.2 m apart, below r_min: P_0 and P_1 are infeasible, P_2 is not
    scenario = path_scenario([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], [5.0, 5.2, 8.0])
    agents, report = run_agents(scenario, NcAdmmSettings(diameter_bound=2))
    assert report.status is RunStatus.COMPLETED and not report.unfinished
    result = fleet_result("nc_admm", scenario.problem, report, rounds=1)
    assert result.status is FleetStatus.STAGE_FAILED
    assert "agent 0: iteration 1: local problem infeasible" in result.failure
    assert agents[2].failure is None and agents[2].stop.value == "aborted"


@pytest.mark.parametrize("field, value, named", [("rho", 0.0, "rho"), ("relaxation", 2.0, "relaxation"),
                                                 ("stop", "converged", "stop"), ("weighting", "equal", "weighting")])
def test_bad_settings_are_refused_by_name(field, value, named):
    with pytest.raises(ValueError, match=named):
        NcAdmmSettings(**{field: value})
