"""Receding-horizon missions in process: the loop re-plans with CDS-PS + EAS past an obstacle, through a push
and a dropout, and keeps the constraints when executed; bad settings are named before anything runs."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from dro_ros.fleet.plan import rolled_out_plan
from dro_ros.mission.receding import Dropout, Push, RecedingError, receding_from_config, sampled_clearance
from dro_ros.mission.receding_loop import FirstWindowFailed
from dro_ros.mission.receding_sim import simulated_loop
from dro_ros.trajectory import EasParameters, run_path_sweep, scenario_from_config, solve_centralized
from dro_ros.trajectory.obstacles import distances

CONFIG = {
    "name": "rh4", "dim": 2, "horizon": 100, "duration": 25.0, "r_min": 0.2, "max_speed": 1.0, "max_input": 0.4,
    "initial": [[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0]],
    "terminal": [{"kind": "fixed", "position": [8, 8], "velocity": [0, 0]},
                 {"kind": "fixed", "position": [8, 9], "velocity": [0, 0]},
                 {"kind": "fixed", "position": [9, 8], "velocity": [0, 0]},
                 {"kind": "fixed", "position": [9, 9], "velocity": [0, 0]}],
    "communication": {"radius": 1.5},
    "eas": {"epsilon_bar": 5.0, "delta_bar": 0.3, "n_iter": 100},
    "obstacles": [{"kind": "disc", "centre": [4.5, 4.5], "radius": 0.8}],
    "receding_horizon": {"steps": 20, "period": 1.0, "duration": 25.0},
    "disturbances": [{"robot": 1, "time": 4.0, "kind": "push", "velocity": [0.4, -0.4], "duration": 0.5},
                     {"robot": 3, "time": 6.0, "kind": "dropout", "duration": 3.0}],
}


def _loop(config, solver):
    scenario = scenario_from_config(config)
    horizon, disturbances = receding_from_config(config, scenario.problem.n_agents, 2)
    return scenario, simulated_loop(scenario.problem, horizon, solver, algorithm="test",
                                  communication=config["communication"], eas=scenario.eas,
                                  disturbances=disturbances)


@pytest.fixture(scope="module")
def sweep_run():
    eas = EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100)
    scenario, loop = _loop(CONFIG, lambda s: run_path_sweep(s, eas=eas))
    return scenario, loop.run()


def test_every_robot_reaches_its_goal_past_the_obstacle_through_a_push_and_a_dropout(sweep_run):
    scenario, run = sweep_run
    assert run.succeeded, run.summary()
    assert all(t is not None and t < 25.0 for t in run.reached.values())
    assert max(run.summary()["final_goal_error_m"]) <= 0.1   # reached: within 0.05 m, nearly at rest


def test_executed_paths_keep_separation_and_clearance_within_the_tracking_tolerance(sweep_run):
    scenario, run = sweep_run
    problem = scenario.problem
    assert run.min_separation >= problem.r_min - 2e-3
    at = run.summary()["min_separation_at"]   # where the reported minimum was: the tracks say the same
    k, (i, j) = int(np.argmin(np.abs(run.times - at["t_s"]))), at["robots"]
    assert np.linalg.norm(run.positions[k, i] - run.positions[k, j]) == pytest.approx(run.min_separation)
    assert run.min_clearance >= problem.clearance - 2e-3
    straight = distances(problem.obstacles, np.linspace([0.5, 0.5], [8.5, 8.5], 50)).min()
    assert straight < problem.clearance   # the obstacle is on the straight way: the plans went around it


def test_a_silent_robot_stalls_one_replan_then_the_others_plan_around_it_and_it_rejoins(sweep_run):
    _, run = sweep_run
    stalled = [r for r in run.replans if r.stalled_on]
    assert len(stalled) == 1 and stalled[0].stalled_on == [3] and 6.0 <= stalled[0].time < 7.0
    during = [r for r in run.replans if 7.0 <= r.time < 9.0]
    assert during and all(r.dropped == [3] and all(3 not in p.robots for p in r.parts) for r in during)
    after = [r for r in run.replans if r.time >= 9.0 and r.parts]
    assert after and any(3 in p.robots for p in after[0].parts)
    assert run.summary()["missed_deadlines"] >= 1   # the stalled replan is counted
    [[dropped, rejoined]] = run.summary()["dropped_s"]["3"]
    assert (dropped, rejoined) == (during[0].time, after[0].time)
    assert run.summary()["stalls"] == [f"t={stalled[0].time:.2f}: robots [3] silent"]


def test_the_summary_reports_replans_and_critical_paths(sweep_run):
    _, run = sweep_run
    summary = run.summary()
    assert summary["replans"] == len(run.replans) - 1 >= 10
    assert 0 < summary["critical_path_s"]["p50"] <= summary["critical_path_s"]["max"]
    assert summary["messages_per_replan"] > 0


def test_the_centralized_loop_is_a_baseline_with_the_same_guarantees():
    eas = EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100)
    config = {**CONFIG, "disturbances": []}
    _, loop = _loop(config, lambda s: solve_centralized(s.problem, eas=eas, guess=s.guess))
    run = loop.run()
    assert run.succeeded and run.min_clearance >= 0.1 - 2e-3


def test_the_window_clearance_covers_the_chord_between_samples():
    scenario = scenario_from_config(CONFIG)
    c, half = scenario.problem.clearance, 1.0 * scenario.problem.step / 2
    assert sampled_clearance(scenario.problem) == pytest.approx(np.hypot(0.8 + c, half) - 0.8)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["receding_horizon"].update(steps=3), "receding_horizon.steps: the window"),
    (lambda c: c["receding_horizon"].update(period=0), "receding_horizon.period: must be positive"),
    (lambda c: c["receding_horizon"].update(period=0.6), "receding_horizon.period: must be a whole number of steps"),
    (lambda c: c["receding_horizon"].update(horizon=3), "receding_horizon.horizon: unknown key"),
    (lambda c: c["disturbances"].append({"robot": 9, "time": 1, "kind": "push", "velocity": [1, 0]}),
     r"disturbances\[2\]\.robot"),
    (lambda c: c["disturbances"].append({"robot": 0, "time": 1, "kind": "push", "velocity": [1]}),
     r"disturbances\[2\]\.velocity"),
    (lambda c: c["disturbances"].append({"robot": 0, "time": 1, "kind": "teleport"}), r"disturbances\[2\]\.kind"),
])
def test_bad_settings_are_named_before_anything_runs(change, message):
    config = copy.deepcopy(CONFIG)
    change(config)
    with pytest.raises(RecedingError, match=message):
        _loop(config, lambda s: None)


def test_the_window_must_be_long_enough_to_brake_from_the_start():
    config = copy.deepcopy(CONFIG)
    config["initial"][0][2:] = [1.0, 0.0]   # 1 m/s at u_bar 0.4: 2.5 s to brake; window 20 x 0.25 = 5 s
    config["receding_horizon"]["steps"] = 8   # 2 s
    with pytest.raises(RecedingError, match="shorter than the 2.5 s"):
        _loop(config, lambda s: None)


def test_disturbances_parse_into_typed_records():
    _, disturbances = receding_from_config(CONFIG, 4, 2)
    assert disturbances == (Push(1, 4.0, (0.4, -0.4), 0.5), Dropout(3, 6.0, 3.0))


def test_a_window_start_short_of_a_bound_by_rounding_keeps_its_own_distance_and_more_is_refused():
    from dro_ros.mission.receding import window_config
    from dro_ros.trajectory import diagnose

    def window_problem(*args):
        return scenario_from_config(window_config(*args, edges=[(0, 1), (1, 2), (2, 3)])).problem

    scenario = scenario_from_config(CONFIG)
    horizon, _ = receding_from_config(CONFIG, 4, 2)
    clearance = sampled_clearance(scenario.problem)
    states = scenario.problem.initial.copy()
    states[0, :2] = [4.5 - 0.8 - clearance + 5e-4, 4.5]          # 0.5 mm inside the window's clearance
    window = window_problem(scenario.problem, horizon, [0, 1, 2, 3], states, [], "w")
    assert window.clearance == pytest.approx(clearance - 5e-4) and not diagnose(window)
    states[0, :2] = [4.5 - 0.8 - clearance + 0.05, 4.5]          # 5 cm inside: refused, naming the robot
    window = window_problem(scenario.problem, horizon, [0, 1, 2, 3], states, [], "w")
    assert window.clearance == pytest.approx(clearance)
    assert any("agent 1 starts" in r.reason for r in diagnose(window))

    states[0, :2] = [4.5 - 0.8 - clearance + 5e-3, 4.5]          # inside the chord margin, clear of c
    window = window_problem(scenario.problem, horizon, [0, 1, 2, 3], states, [], "w")
    assert scenario.problem.clearance < window.clearance < clearance and not diagnose(window)


def test_a_robot_inside_the_traffic_margin_but_clear_of_r_min_keeps_its_distance_to_that_traffic():
    """A neighbour of a robot that dropped out (or of a part that split off) starts closer than r_min +
    traffic_margin to it: the window keeps the distance it has (never below r_min), not an infeasible bound."""
    from dro_ros.mission.receding import window_config
    from dro_ros.trajectory import diagnose

    scenario = scenario_from_config(CONFIG)
    horizon, _ = receding_from_config(CONFIG, 4, 2)
    problem = scenario.problem
    states = problem.initial[:3].copy()

    def traffic_at(distance):
        still = problem.initial[0, :2] + [distance, 0.0]
        return [np.repeat(still[None], horizon.steps + 1, axis=0)]

    near = scenario_from_config(window_config(problem, horizon, [0, 1, 2], states, traffic_at(0.25), "w",
                                              edges=[(0, 1), (0, 2)])).problem
    assert near.traffic_separation == pytest.approx(0.25) and not diagnose(near)
    inside = scenario_from_config(window_config(problem, horizon, [0, 1, 2], states, traffic_at(0.15), "w",
                                                edges=[(0, 1), (0, 2)])).problem
    assert inside.traffic_separation == pytest.approx(problem.r_min + horizon.traffic_margin)
    assert diagnose(inside)   # closer than r_min: refused before any solve

def test_a_window_keeps_the_separation_margin_between_its_robots_unless_they_start_inside_it():
    """The part's robots keep r_min + separation_margin at the samples, so that robots passing each other
    between two samples keep r_min; robots starting between r_min and that keep their own distance."""
    from dro_ros.mission.receding import window_config
    from dro_ros.trajectory import diagnose

    config = copy.deepcopy(CONFIG)
    config["receding_horizon"]["separation_margin"] = 0.01
    scenario = scenario_from_config(config)
    horizon, _ = receding_from_config(config, 4, 2)
    problem = scenario.problem
    assert receding_from_config(CONFIG, 4, 2)[0].separation_margin == 0.0   # the default

    def window(gap):
        states = problem.initial.copy()
        states[1, :2] = states[0, :2] + [0.0, gap]
        return scenario_from_config(window_config(problem, horizon, [0, 1, 2, 3], states, [], "w",
                                                  edges=[(0, 1), (1, 2), (2, 3)])).problem

    assert window(1.0).r_min == pytest.approx(problem.r_min + 0.01)
    inside = window(0.205)
    assert inside.r_min == pytest.approx(0.205) and not diagnose(inside)
    assert window(0.15).r_min == pytest.approx(problem.r_min + 0.01) and diagnose(window(0.15))
    with pytest.raises(RecedingError, match="receding_horizon.separation_margin"):
        receding_from_config({**CONFIG, "receding_horizon": {**CONFIG["receding_horizon"], "separation_margin": -1}},
                             4, 2)


def test_a_window_travels_as_json_and_reads_back_as_the_same_problem():
    import json

    from dro_ros.mission.receding import window_config

    scenario = scenario_from_config(CONFIG)
    horizon, _ = receding_from_config(CONFIG, 4, 2)
    traffic = [np.linspace([5.0, 0.0], [5.0, 3.0], horizon.steps + 1)]
    guess = np.full((3, horizon.steps, 2), 0.1)
    config = window_config(scenario.problem, horizon, [0, 1, 2], scenario.problem.initial[:3], traffic, "w",
                           edges=[(0, 1), (0, 2)], eas=scenario.eas, guess=guess)
    window = scenario_from_config(json.loads(json.dumps(config)))
    assert window.problem.n_agents == 3 and window.problem.horizon == horizon.steps
    np.testing.assert_array_equal(window.problem.traffic[0], traffic[0])
    np.testing.assert_array_equal(window.guess, guess)
    assert [t.target.tolist() for t in window.problem.terminals] == [[8, 8], [8, 9], [9, 8]]
    assert window.graph.edges == [(0, 1), (0, 2)]
    assert [o.to_config() for o in window.problem.obstacles] == [o.to_config() for o in scenario.problem.obstacles]


def test_a_goal_inside_an_obstacle_is_refused_naming_the_robot():
    """A goal disc reaching out of an obstacle is feasible one-shot, but its centre (where the cost to go
    pulls) lies inside: refused before anything runs."""
    config = copy.deepcopy(CONFIG)
    config["terminal"] = {"kind": "ball", "centre": [9, 9], "radius": 1.5, "velocity": [0, 0]}
    config["obstacles"].append({"kind": "polygon", "vertices": [[8.5, 8.5], [9.5, 8.5], [9.5, 9.5]]})
    with pytest.raises(RecedingError, match=r"terminal\[0\]: robot 0's goal \[9.0, 9.0\]"):
        _loop(config, lambda s: None)


def test_split_parts_plan_together_and_a_part_whose_new_plans_conflict_is_deferred():
    """Two robots out of radio range cross: each plans around the other's committed plan (at first, its
    position), so their first new plans meet at the crossing; robot 0's part is first in turn and commits,
    robot 1's is deferred (kept at rest), then plans around robot 0's plan. Far-apart parts commit together."""
    config = {
        "name": "crossing", "dim": 2, "horizon": 100, "duration": 25.0, "r_min": 0.3, "max_speed": 1.0,
        "max_input": 0.5, "initial": [[0, 0, 0, 0], [4, 0, 0, 0], [0, 20, 0, 0]],
        "terminal": [{"kind": "fixed", "position": [4, 4], "velocity": [0, 0]},
                     {"kind": "fixed", "position": [0, 4], "velocity": [0, 0]},
                     {"kind": "fixed", "position": [2, 20], "velocity": [0, 0]}],
        "communication": {"radius": 1.0},
        "eas": {"epsilon_bar": 5.0, "delta_bar": 0.3, "n_iter": 100},
        "receding_horizon": {"steps": 20, "period": 1.0, "duration": 25.0},
    }
    eas = EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100)
    scenario, loop = _loop(config, lambda s: run_path_sweep(s, eas=eas))
    run = loop.run()
    first = run.replans[0]
    assert [p.robots for p in first.parts] == [[0], [1], [2]]
    assert [p.committed for p in first.parts] == [True, False, True] and first.parts[1].deferred
    assert "deferred: robots 1 and 0" in first.parts[1].reason
    assert run.summary()["parts_deferred"] >= 1 and run.summary()["missed_deadlines"] == 0
    assert run.succeeded, run.summary()
    assert run.min_separation >= scenario.problem.r_min - 2e-3


def test_a_robot_silent_to_the_end_fails_the_mission_instead_of_being_left_out():
    """Robot 3's agent never speaks again: the others reach their goals, but the mission did not succeed
    (robot 3 stopped at the end of its last plan, short of its goal) and the summary says it was dropped."""
    config = copy.deepcopy(CONFIG)
    config["disturbances"] = [{"robot": 3, "time": 2.0, "kind": "dropout", "duration": 100.0}]
    eas = EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100)
    _, loop = _loop(config, lambda s: run_path_sweep(s, eas=eas))
    run = loop.run()
    summary = run.summary()
    assert not run.succeeded and not summary["succeeded"]
    assert summary["dropped_at_end"] == [3] and run.reached[3] is None
    assert all(run.reached[i] is not None for i in (0, 1, 2))
    assert list(run.unreached(0.05)) == [3] and "m from its goal" in run.unreached(0.05)[3]
    assert summary["final_speed_m_s"][3] < 0.05   # stopped short, at the end of its last plan


def _carried_while_planning(loop, robot, shift, times):
    """Make `robot` be carried by `shift` (m) while the first window is solved, the first `times` times."""
    port, solve, carried = loop.port, loop.port.solve, []

    def moving_solve(requests, deadline):
        solved = solve(requests, deadline)
        if deadline is None and len(carried) < times:
            port.sim.position[robot] += shift
            carried.append(robot)
        return solved
    port.solve = moving_solve


def test_a_first_window_the_robots_moved_away_from_is_planned_again_from_where_they_are():
    """Over DDS robots can move while the first window is solved (after a supervisor restart they finish the
    old mission's plans): a plan starting where robot 1 no longer is would be tracked by a jump, so it is
    planned again from the new measurement; a robot that keeps moving fails the mission, named."""
    config = copy.deepcopy(CONFIG)
    config["receding_horizon"]["duration"] = 2.0
    config["disturbances"] = []
    shift = np.array([0.3, 0.0])
    eas = EasParameters(epsilon_bar=5.0, delta_bar=0.3, n_iter=100)
    _, loop = _loop(config, lambda s: run_path_sweep(s, eas=eas))
    _carried_while_planning(loop, 1, shift, times=1)
    run = loop.run()
    assert run.replans[0].attempts == 2 and run.summary()["first_window_attempts"] == 2
    np.testing.assert_allclose(run.positions[0, 1], np.array(CONFIG["initial"][1][:2]) + shift, atol=1e-6)
    assert run.min_separation >= 0.2 - 0.01

    _, loop = _loop(config, lambda s: run_path_sweep(s, eas=eas))
    _carried_while_planning(loop, 1, shift, times=10)
    with pytest.raises(FirstWindowFailed, match=r"kept moving .* robot 1 0\.300 m off its plan's start"):
        loop.run()


def test_robots_still_flying_a_lost_missions_plan_are_waited_for_before_the_first_window_is_planned_again():
    """After a supervisor restart the robots finish the lost mission's plans (which end at rest) while the new
    mission's first window is solved (here 1.2 s with the clock running). Robot 1 flies such a plan for 4 s,
    so three attempts from where it happens to be would all find it gone (chaos run 40); the second attempt
    waits until it is at rest and plans from where it stopped."""
    config = copy.deepcopy(CONFIG)
    config["receding_horizon"]["duration"] = 2.0
    config["disturbances"] = []
    scenario, loop = _loop(config, lambda s: run_path_sweep(s, eas=EasParameters(**CONFIG["eas"])))
    port, solve = loop.port, loop.port.solve
    lost = np.zeros((16, 2))
    lost[:4, 0], lost[-4:, 0] = -0.4, 0.4   # 1 s to 0.4 m/s westwards, 2 s cruising, 1 s braking
    port.switch("lost mission", {1: rolled_out_plan(scenario.problem, 1, lost, "robot_1")}, at=0.0)

    def solve_while_flying(requests, deadline):
        solved = solve(requests, deadline)
        port.run_until(port.now() + 1.2)
        return solved
    port.solve = solve_while_flying
    run = loop.run()
    assert run.replans[0].attempts == 2
    stopped = scenario.problem.rollout(lost, scenario.problem.initial[1])[-1, :2]
    first = loop.switch_times[0]
    np.testing.assert_allclose(port.track()[1][np.searchsorted(port.track()[0], first), 1], stopped, atol=0.02)
    assert run.min_separation >= 0.2 - 0.01


def test_a_robot_in_its_goal_but_still_moving_when_time_ran_out_is_named_so():
    """Chaos run 16: robot 5 ended inside its goal disc, not yet at rest, and the mission said only that it
    'did not reach its goal'."""
    from dro_ros.mission.receding_loop import RecedingRun

    run = RecedingRun(algorithm="test", replans=[], times=np.zeros(1), positions=np.zeros((1, 2, 2)),
                      executed_cost=0.0, reached={0: 12.0, 1: None}, dropped_at_end=[], min_separation=1.0,
                      min_clearance=1.0, first_plan_seconds=0.1, switch_times=[0.0], final_goal_error=[0.0, 0.0],
                      final_speed=[0.0, 0.31])
    assert run.unreached(0.05) == {1: "in its goal but still moving at 0.31 m/s when the time ran out"}
