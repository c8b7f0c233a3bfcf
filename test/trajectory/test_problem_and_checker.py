"""The problem model's validation, the pre-solve diagnosis and the independent checker."""
import dataclasses

import numpy as np
import pytest

from dro_ros.trajectory.checker import InfeasibleProblem, check, diagnose, require_feasible_data, simulate
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, ProblemError
from dro_ros.trajectory.scenarios import formation2d, load_scenario, platoon, scenario_from_config


def two_agents(**changes):
    fields = dict(dim=1, horizon=10, step=0.5, initial=[[0.0, 0.0], [2.0, 0.0]],
                  terminals=(FixedTerminal([1.0], [0.0]), FixedTerminal([3.0], [0.0])), r_min=0.5,
                  coupling="ordering")
    return FleetProblem(**{**fields, **changes})


@pytest.mark.parametrize("changes, field", [
    ({"dim": 4}, "dim"),
    ({"initial": [[0.0, 0.0, 0.0]]}, "initial"),
    ({"initial": [[0.0, np.nan], [2.0, 0.0]]}, "initial"),
    ({"terminals": (FixedTerminal([1.0], [0.0]),)}, "terminals"),
    ({"terminals": (FixedTerminal([1.0, 2.0], [0.0]), FixedTerminal([3.0], [0.0]))}, "terminals[0].position"),
    ({"step": 0.0}, "step"),
    ({"r_min": -1.0}, "r_min"),
    ({"max_input": 0.0}, "max_input"),
    ({"dim": 2, "initial": [[0, 0, 0, 0], [2, 0, 0, 0]],
      "terminals": (BallTerminal([1, 1], 1, [0, 0]),) * 2}, "coupling"),   # ordering is 1-D only
])
def test_inconsistent_data_are_refused_naming_the_field(changes, field):
    with pytest.raises(ProblemError, match=f"^{field.replace('[', '.').replace(']', '.')}"):
        two_agents(**changes)


def test_dynamics_are_the_exact_double_integrator_of_eq_5_6():
    problem = two_agents()
    states = simulate(problem, np.full((2, 10, 1), 0.2))   # constant acceleration for 5 s
    assert states[0, -1] == pytest.approx([0.5 * 0.2 * 5 ** 2, 0.2 * 5])


def test_checker_measures_each_violation_in_its_own_units():
    problem = two_agents(max_speed=0.1)
    inputs = np.zeros((2, 10, 1))
    inputs[1, :5, 0], inputs[1, 5:, 0] = -0.4, 0.4   # agent 1 dashes back 2.5 m and stops
    report = check(problem, inputs)
    assert report.violations["ordering"] == pytest.approx(0.5 - (2.0 - 2.5))
    assert report.violations["speed"] == pytest.approx(0.4 * 2.5 - 0.1)
    assert report.violations["terminal_position"] == pytest.approx(3.5)   # agent 1 ends at -0.5, not 3
    assert report.worst["terminal_position"] == "agent 1"
    assert report.worst["ordering"].startswith("agents 0 and 1")
    assert not report.feasible()


def test_the_stated_platoon_is_proved_infeasible_for_every_n_of_the_thesis():
    for n in (4, 8, 12, 16, 20, 24):
        reasons = [r.reason for r in diagnose(platoon(n).problem)]
        assert any(f"agents 1 and {n} close at {2 * (n - 1)} m/s" in r for r in reasons)
        assert any(f"u_bar >= {2 * (n - 1) / 15:.4g}" in r for r in reasons)   # the smallest feasible bound
        assert (n >= 12) == any("agent 1 starts at speed" in r for r in reasons)   # v_1(0) = N - 1 > 10
    with pytest.raises(InfeasibleProblem, match="infeasible as stated"):
        require_feasible_data(platoon(8).problem)


def test_the_diagnosis_accepts_feasible_data():
    assert diagnose(platoon(8, limits=False).problem) == []
    assert diagnose(formation2d().problem) == []
    feasible_bound = dataclasses.replace(platoon(4).problem, max_input=2 * 3 / 15 * 1.01, max_speed=None)
    assert diagnose(feasible_bound) == []


def test_the_formation_config_is_the_thesis_experiment():
    loaded = load_scenario("config/trajectory/formation2d.yaml")
    stated = formation2d()
    assert np.array_equal(loaded.problem.initial, stated.problem.initial)
    assert loaded.graph == stated.graph and loaded.path == stated.path and loaded.eas == stated.eas
    assert (loaded.problem.horizon, loaded.problem.step, loaded.problem.r_min) == (500, 0.1, 0.2)
    assert sorted(loaded.graph.edges) == [(0, 1), (1, 2), (1, 4), (2, 3), (2, 4), (2, 5), (3, 5), (4, 5), (5, 6),
                                          (6, 7)]   # Fig. 5.7 from eq. 5.13 with r_com = 2


def test_a_malformed_config_names_its_field():
    with pytest.raises(ProblemError, match="terminal.kind"):
        scenario_from_config({"dim": 1, "horizon": 10, "duration": 5.0, "r_min": 0.1, "initial": [[0, 0]],
                              "terminal": {"kind": "box"}, "communication": {"radius": 1}})
    with pytest.raises(ProblemError, match="horizon: expected int"):
        scenario_from_config({"family": "platoon", "n": 4, "horizon": 10.5})
