"""The chaos suite's plain parts: seeded fault drawing, the faulted config, a run's verdict, the totals."""
from __future__ import annotations

import copy

import pytest

from dro_ros.mission.chaos import (FAULT_KINDS, ChaosError, ChaosSettings, Safety, classify, draw_faults,
                                   faulted_config, totals)
from dro_ros.mission.receding import Dropout, LinkOutage, OdometryStop, Push, RecedingError, receding_from_config
from dro_ros.spec.fleet_config import read_fleet_file

BASE = read_fleet_file("config/mpc_formation.yaml")
SAFE = Safety(r_min=0.2, clearance=0.1, tolerance=0.01, min_separation=0.2, min_obstacle_distance=0.105,
              true_min_separation=0.21, odometry_min_obstacle_distance=0.104)


def test_the_same_seed_gives_the_same_faults_and_another_seed_others():
    first = [draw_faults(7, k, 8) for k in range(10)]
    assert first == [draw_faults(7, k, 8) for k in range(10)]
    assert first != [draw_faults(8, k, 8) for k in range(10)]
    assert first[0] != first[1]   # each run draws its own


def test_every_kind_is_reached_and_each_fault_lies_within_the_settings():
    settings = ChaosSettings()
    faults = [f for k in range(60) for f in draw_faults(0, k, 8, settings)]
    assert {f.kind for f in faults} == set(FAULT_KINDS)
    for k in range(60):
        run = draw_faults(0, k, 8, settings)
        assert 1 <= len(run) <= 3
        assert sum(f.kind == "delay" for f in run) <= 1 and sum(f.kind == "supervisor_restart" for f in run) <= 1
        assert [f.time for f in run] == sorted(f.time for f in run)
        for fault in run:
            if fault.kind == "delay":
                assert fault.robot is None and 0.01 <= fault.delay <= 0.05
            elif fault.kind == "supervisor_restart":   # after every other fault of the run has ended
                assert all(other.duration is None or other.time + other.duration < fault.time
                           for other in run if other is not fault)
            else:
                low, high = (0.5, 1.5) if fault.kind == "push" else (2.0, 5.0)
                assert 0 <= fault.robot < 8 and 4.0 <= fault.time <= 20.0 and low <= fault.duration <= high


def test_the_faulted_config_scripts_the_disturbances_and_the_delay():
    faults = next(run for run in (draw_faults(3, k, 8) for k in range(100))
                  if {"delay", "push"} <= {f.kind for f in run})
    config = faulted_config(BASE, faults, seed=3)
    scenario = config["scenario"]
    _, disturbances = receding_from_config(scenario, 8, 2)   # a config the supervisor accepts
    assert len(disturbances) == sum(f.kind not in ("delay", "supervisor_restart") for f in faults)
    assert all(isinstance(d, (Push, Dropout, LinkOutage, OdometryStop)) for d in disturbances)
    assert config["network"]["delay"] == next(f.delay for f in faults if f.kind == "delay")
    assert BASE["scenario"]["disturbances"] != scenario["disturbances"]   # the base is left as it was
    assert "network" not in BASE


def test_an_odometry_stop_parses_and_a_bad_one_is_named():
    _, parsed = receding_from_config({"disturbances": [{"robot": 1, "time": 2.0, "kind": "odometry_stop",
                                                        "duration": 3.0}]}, 4, 2)
    assert parsed == (OdometryStop(1, 2.0, 3.0),) and parsed[0].covers(4.9) and not parsed[0].covers(5.0)
    with pytest.raises(RecedingError, match=r"disturbances\[0\]\.duration: must be positive"):
        receding_from_config({"disturbances": [{"robot": 1, "time": 2.0, "kind": "odometry_stop",
                                                "duration": 0}]}, 4, 2)
    with pytest.raises(RecedingError, match=r"disturbances\[0\]\.mode: unknown key"):
        receding_from_config({"disturbances": [{"robot": 1, "time": 2.0, "kind": "odometry_stop", "duration": 1,
                                                "mode": "kill"}]}, 4, 2)


@pytest.mark.parametrize("options, field", [
    ({"faults_per_run": [0, 2]}, "faults_per_run"),
    ({"faults_per_run": [1.5, 2]}, "faults_per_run"),
    ({"window": [10, 5]}, "window"),
    ({"durations": [0, 1]}, "durations"),
    ({"push_durations": [0, 1]}, "push_durations"),
    ({"delay": [0.1]}, "delay"),
    ({"kinds": ["kill", "meteor"]}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"speed": 1}, "speed"),
])
def test_bad_settings_are_refused_naming_the_field(options, field):
    with pytest.raises(ChaosError, match=rf"^{field}: "):
        ChaosSettings.from_options(options)


def test_a_run_with_one_kind_draws_only_that_kind():
    settings = ChaosSettings.from_options({"kinds": ["odometry_stop"], "faults_per_run": [2, 2]})
    assert [f.kind for f in draw_faults(0, 0, 4, settings)] == ["odometry_stop"] * 2


def _mission(status="SUCCEEDED", reason="", **summary):
    return {"status": status, "reason": reason, "summary": {"stalls": [], "dropped_s": {}, "fallbacks": [], **summary}}


def test_a_clean_success_is_succeeded_and_a_stall_or_a_resend_is_recovered():
    assert classify([_mission(fallbacks=["t=4: late"])], SAFE, resent=False, hung=[], exited=[]).outcome == "succeeded"
    stalled = classify([_mission(stalls=["t=8.01: robots [3] silent"], dropped_s={"3": [[10, 14]]})], SAFE,
                       resent=False, hung=[], exited=[])
    assert stalled.outcome == "recovered" and "robots [3] silent" in stalled.reason and "robot 3 dropped" in stalled.reason
    assert classify([_mission()], SAFE, resent=True, hung=[], exited=[]).outcome == "recovered"


def test_a_failure_is_named_from_the_mission_result_and_a_violation_fails_the_run():
    failed = classify([_mission("FAILED", "robot 2 did not reach its goal")], SAFE, resent=False, hung=[], exited=[])
    assert (failed.outcome, failed.reason, failed.safety_held) == ("failed", "robot 2 did not reach its goal", True)
    close = Safety(**{**SAFE.__dict__, "true_min_separation": 0.18})
    violated = classify([_mission()], close, resent=False, hung=[], exited=[])
    assert violated.outcome == "failed" and not violated.safety_held
    assert violated.reason == "safety: true separation 0.1800 m < r_min 0.2 - 0.01"
    assert classify([], SAFE, resent=False, hung=["no result within the wall limit of 300 s"],
                    exited=[]).reason == "no mission result (no result within the wall limit of 300 s)"
    assert classify([_mission()], SAFE, resent=False, hung=[], exited=["robot_1/agent (exit code 1)"]
                    ).reason == "node exited: robot_1/agent (exit code 1)"


def test_the_totals_count_faults_outcomes_violations_and_hangs():
    runs = [{"faults": [{"kind": "kill"}, {"kind": "supervisor_restart", "injected": False}], "outcome": "recovered",
             "safety_held": True, "hung": []},
            {"faults": [{"kind": "push"}], "outcome": "failed", "safety_held": False, "hung": []},
            {"faults": [{"kind": "outage"}], "outcome": "succeeded", "safety_held": True,
             "hung": ["robot_0/agent: did not exit within 5 s of SIGINT"], "slowest_exit_s": 5.0}]
    assert totals(copy.deepcopy(runs)) == {
        "runs": 3, "faults_injected": 3, "succeeded": 1, "recovered": 1, "failed": 1, "survived": 1,
        "safety_violations": 1, "hangs": 1, "slowest_exit_s": 5.0, "recovery_rate": 2 / 3}
