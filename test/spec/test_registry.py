"""The one registry of algorithms: every path to an agent applies the same checks, naming the field."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from dro_ros.core.topology import Topology, TopologyError
from dro_ros.spec import ALGORITHMS, AgentSpec, SpecError, make_agent
from dro_ros.trajectory.branch_sweep import run_branch_sweep
from dro_ros.trajectory.checker import InfeasibleProblem
from dro_ros.trajectory.nc_admm import run_nc_admm
from dro_ros.trajectory.outcome import agent_names
from dro_ros.trajectory.path_sweep import run_path_sweep
from dro_ros.trajectory.scenarios import scenario_from_config

PLATOON = {"family": "platoon", "n": 4, "horizon": 40, "duration": 20.0, "limits": False}
SPLIT = {"dim": 1, "horizon": 40, "duration": 20.0, "r_min": 0.5, "coupling": "ordering",   # two pairs, unlinked
         "initial": [[8, 3], [16, 1], [24, -1], [32, -3]],
         "terminal": [{"kind": "fixed", "position": [x], "velocity": [0]} for x in (526, 528, 530, 532)],
         "communication": {"edges": [[0, 1], [2, 3]]}}
RUNS = {"path_sweep": run_path_sweep, "branch_sweep": run_branch_sweep, "nc_admm": run_nc_admm}


def trajectory_params(config, index=0, **settings):
    return {"scenario": config, "index": index, "names": agent_names(4), **settings}


def test_every_registered_factory_is_importable():
    for entry in ALGORITHMS.values():
        assert callable(entry.make_agent), entry.name


def test_reading_the_registry_loads_neither_rclpy_nor_a_solver():
    code = ("import sys, dro_ros.spec; "
            "assert not {'rclpy', 'casadi'} & set(sys.modules), sorted({'rclpy', 'casadi'} & set(sys.modules))")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_disconnected_graph_is_refused_by_the_spec_and_the_run_alike(name):
    """The spec path (JSON parameters) and the in-process run build their agents with the same factory."""
    with pytest.raises(SpecError, match="disconnected"):
        make_agent(name, trajectory_params(SPLIT))
    with pytest.raises(TopologyError, match="disconnected"):
        RUNS[name](scenario_from_config(SPLIT))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_graph_without_one_node_per_robot_is_refused_before_any_agent_is_built(name):
    scenario = dataclasses.replace(scenario_from_config({**PLATOON, "n": 5}),
                                   graph=Topology.from_edges(4, [(0, 1), (1, 2), (2, 3)]))
    with pytest.raises(TopologyError, match="4 nodes but problem 'platoon5' has 5 agents"):
        RUNS[name](scenario)
    with pytest.raises(SpecError, match="params: index: expected an agent index in 0..3, got 4"):
        make_agent(name, trajectory_params(PLATOON, index=4))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_provably_infeasible_data_are_refused_on_both_paths(name):
    stated = {**PLATOON, "limits": True}   # u_bar = 0.2 cannot brake the closing end agents
    with pytest.raises(SpecError, match="agents 1 and 4 close at 6 m/s"):
        make_agent(name, trajectory_params(stated))
    with pytest.raises(InfeasibleProblem, match="agents 1 and 4 close at 6 m/s"):
        RUNS[name](scenario_from_config(stated))


def test_a_coarse_factor_that_does_not_divide_the_horizon_is_refused_by_the_spec():
    with pytest.raises(SpecError, match="horizon 40 is not a multiple of the factor 7"):
        make_agent("branch_sweep", trajectory_params(PLATOON, prediction=7))


def test_negative_admm_weights_are_refused_by_the_spec():
    with pytest.raises(SpecError, match="weights: must be non-negative"):
        make_agent("admm_coordinator", {"kind": "target_distance", "target": [1.0, 2.0], "weights": [1.0, -1.0]})
    coordinator = make_agent("admm_coordinator", {"kind": "target_reach", "target": [1.0, 2.0], "penalty": 10.0})
    assert np.array_equal(coordinator.start.weights, [1.0, 1.0])


@pytest.mark.parametrize("params, message", [
    ({"index": 0, "names": agent_names(4)}, r"params.scenario: missing"),
    (trajectory_params({**PLATOON, "horizon": "long"}), r"params.scenario.horizon: expected int, got 'long'"),
    (trajectory_params(PLATOON, eas="yes"), r"params.eas: expected true or false, got 'yes'"),
    (trajectory_params(PLATOON, tol=1), r"params.tol: unknown parameter \(expected one of eas, path, speculate\)"),
])
def test_bad_trajectory_parameters_name_the_field(params, message):
    with pytest.raises(SpecError, match=message):
        make_agent("path_sweep", params)


def test_nc_admm_settings_come_from_the_json_parameters():
    star = {**SPLIT, "communication": {"edges": [[0, 1], [1, 2], [1, 3]]}}
    agent = make_agent("nc_admm", trajectory_params(star, index=1, relaxation=1.8, stop="feasible"))
    assert (agent.settings.relaxation, agent.settings.stop) == (1.8, "feasible")
    assert agent.diameter == 2   # the star's diameter by default (N - 1 = 3 would stop a round late)
    with pytest.raises(SpecError, match="relaxation: expected 0 < alpha < 2, got 2.5"):
        make_agent("nc_admm", trajectory_params(PLATOON, relaxation=2.5))


def test_an_agent_spec_builds_its_agent_through_the_registry():
    spec = AgentSpec.from_dict({"address": "robot_1", "fleet": agent_names(4), "neighbours": ["robot_0", "robot_2"],
                                "algorithm": "branch_sweep", "params": trajectory_params(PLATOON, index=1)})
    agent = spec.build_agent()
    assert (type(agent).__name__, agent.me, agent.parent) == ("BranchSweepAgent", 1, None)   # the root, N/2 - 1
    with pytest.raises(SpecError, match=r"algorithm: expected one of \['admm_coordinator', 'averaging'"):
        AgentSpec.from_dict({"address": "a", "fleet": ["a"], "algorithm": "gossip"})


def test_a_general_flex_actor_is_built_from_json_parameters_and_its_errors_name_the_field():
    """`polytope_flex`: the reference's ADMMFlexActor(lb, u, C, d, S) as an agent of a fleet config."""
    actor = make_agent("polytope_flex", {"lb": [0, 0], "ub": [4, 4], "C": [[1, 1]], "d": [5], "S": [1, 1]})
    assert actor.C.shape == (1, 2)
    with pytest.raises(SpecError, match=r"params: flex actor.u: has 1 entries, lb has 2"):
        make_agent("polytope_flex", {"lb": [0, 0], "ub": [4], "C": [[1, 1]], "d": [5], "S": [1, 1]})
