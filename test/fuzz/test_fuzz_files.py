"""Fuzzed input files: every file a user or another program hands dro_ros is rejected with the boundary's
named error (its message names a field of the file), never a crash with an unrelated exception, never a
hang. Each test mutates one node of a valid file shipped in the repository (`fuzzing.mutants`)."""
import json
from pathlib import Path

import pytest
import yaml
from fuzzing import fuzz_settings, keys_of, mutants, rejected_by_name
from hypothesis import given
from hypothesis import strategies as st

from dro_ros.mission.goal import GoalError, MissionGoal, goal_fields
from dro_ros.mission.receding import RecedingError, receding_from_config
from dro_ros.scheduling.problem import ProblemError as MosaicError
from dro_ros.scheduling.problem import parse_problem
from dro_ros.spec import SpecError
from dro_ros.spec.agent import AgentSpec
from dro_ros.spec.fleet_config import parse_fleet_config, read_fleet_file
from dro_ros.trajectory.obstacles import ObstacleError, obstacles_from_config
from dro_ros.trajectory.problem import ProblemError
from dro_ros.trajectory.scenarios import scenario_from_config

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = yaml.safe_load((ROOT / "config/trajectory/formation4_obstacles.yaml").read_text())
RECEDING = yaml.safe_load((ROOT / "config/trajectory/mpc_formation4.yaml").read_text())
FLEETS = {name: read_fleet_file(ROOT / "config" / f"{name}.yaml") for name in
          ("formation_small", "formation_small_diffdrive", "averaging_ring6", "admm_fleet", "cohda_fleet",
           "scheduler")}
MOSAIC = {name: json.loads((ROOT / "test/scheduling/data" / f"{name}.json").read_text()) for name in
          ("relay5", "ti_latency_choice", "optional_reward", "or_dependency")}
GOALS = [goal for name in ("formation_small_two_goals", "mpc_formation_small_goals")
         for goal in yaml.safe_load((ROOT / "config/missions" / f"{name}.yaml").read_text())]
AGENT = {"address": "robot_0", "fleet": ["robot_0", "robot_1"], "neighbours": ["robot_1"], "problem_id": "run",
         "algorithm": "averaging", "params": {"initial": [1.0, 2.0], "tol": 1e-6, "diameter_bound": 1},
         "timeouts": {"stall": 3.0}}


def _named(valid, mutant) -> set[str]:
    """The fields a rejection may name: the mutated one, or any other of the file (a consistency check
    between two fields may name the other), except the sections that only wrap the mutated field."""
    return (keys_of(valid) - {"params", "scenario"}) | {mutant.field}


@fuzz_settings()
@given(mutants(SCENARIO))
def test_scenario_files(mutant):
    """`scenario_from_config`: a ProblemError naming the field."""
    rejected_by_name(lambda: scenario_from_config(mutant.document), ProblemError, _named(SCENARIO, mutant))


@fuzz_settings()
@given(mutants(RECEDING))
def test_receding_horizon_scenarios(mutant):
    """`receding_from_config` and the window's check against the mission's problem: RecedingError or the
    problem's ProblemError, naming the field."""
    def parse():
        problem = scenario_from_config(mutant.document).problem
        horizon, _ = receding_from_config(mutant.document, problem.n_agents, problem.dim)
        if horizon is not None:
            horizon.check_against(problem)

    rejected_by_name(parse, (RecedingError, ProblemError), _named(RECEDING, mutant))


@fuzz_settings()
@given(mutants({"obstacles": SCENARIO["obstacles"]}))
def test_obstacles(mutant):
    rejected_by_name(lambda: obstacles_from_config(mutant.document.get("obstacles")), ObstacleError,
                     _named(SCENARIO, mutant))


@pytest.mark.parametrize("name", sorted(FLEETS))
@fuzz_settings(0.5)
@given(data=st.data())
def test_fleet_configs(name, data):
    """`parse_fleet_config` of a shipped config/*.yaml (its scenario file read in): SpecError naming the field."""
    mutant = data.draw(mutants(FLEETS[name]))
    rejected_by_name(lambda: parse_fleet_config(mutant.document, name), SpecError, _named(FLEETS[name], mutant))


@pytest.mark.parametrize("name", sorted(MOSAIC))
@fuzz_settings(0.5)
@given(data=st.data())
def test_mosaic_problems(name, data):
    """`parse_problem` of a MOSAIC JSON problem: the scheduler's ProblemError naming the field."""
    mutant = data.draw(mutants(MOSAIC[name]))
    rejected_by_name(lambda: parse_problem(mutant.document), MosaicError, _named(MOSAIC[name], mutant))


@fuzz_settings()
@given(mutants(AGENT))
def test_agent_specs(mutant):
    """An agent process's spec (`agent_once --spec`, the launcher): SpecError naming the field."""
    rejected_by_name(lambda: AgentSpec.from_dict(mutant.document).build_agent(), SpecError, _named(AGENT, mutant))


@fuzz_settings()
@given(mutants(GOALS))
def test_goal_files(mutant):
    """A `--goals` file entry (`mission.goal_fields`), then the supervisor's check against a fleet of 4
    robots in the plane (`MissionGoal.from_fields`): GoalError naming the field."""
    def parse():
        for k, goal in enumerate(mutant.document):
            MissionGoal.from_fields(n_robots=4, dim=2, **goal_fields(goal, f"goals[{k}]"))

    entry = {"goals["} if len(mutant.path) == 1 else set()   # a whole entry replaced or deleted
    rejected_by_name(parse, GoalError, _named(GOALS, mutant) | entry)


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -1.0, 1e308]))


@fuzz_settings()
@given(centre=st.lists(NUMBERS, max_size=4), radius=NUMBERS, velocity=st.lists(NUMBERS, max_size=4),
       positions=st.lists(NUMBERS, max_size=10), duration=NUMBERS,
       algorithm=st.sampled_from(["", "path_sweep", "nc_admm", "averaging", "x" * 1000, "\x00"]))
def test_mission_action_goals(centre, radius, velocity, positions, duration, algorithm):
    """Any goal an action client can send (the action's typed fields, any values): accepted, or a
    GoalError naming the field, before anything moves."""
    rejected_by_name(lambda: MissionGoal.from_fields(n_robots=4, dim=2, centre=centre, radius=radius,
                                                     velocity=velocity, positions=positions, duration=duration,
                                                     algorithm=algorithm), GoalError,
                     {"centre", "radius", "velocity", "positions", "duration", "algorithm"})
