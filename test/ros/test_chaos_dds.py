"""The chaos suite, short: seeded fault runs of the four-robot receding-horizon mission over DDS
(config/mpc_formation_small.yaml, a window every 2 s), each run's nodes separate processes under the launcher.

What must hold in each run: it ends with a named outcome, the executed separation and obstacle clearance
held (the supervisor's summary and the harness's own measurements), no process hung, and every drawn fault
happened. Seed 2 draws an odometry stop, a push and a supervisor restart; seed 7 an added delay, a killed
agent and a supervisor restart. The whole suite: `dro-ros bench chaos` (README, "Chaos suite").
"""
from pathlib import Path

import pytest

from dro_ros.bench.chaos import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed, kinds", [(2, {"odometry_stop", "push", "supervisor_restart"}),
                                         (7, {"delay", "kill", "supervisor_restart"})])
def test_a_seeded_fault_run_ends_named_safe_and_without_a_hang(tmp_path, seed, kinds):
    result = run(runs=1, seed=seed, config=str(ROOT / "config" / "mpc_formation_small.yaml"), period=2.0,
                 window=[2.0, 8.0], wall=240.0, log_dir=str(tmp_path))
    record = result["runs"][0]
    log = Path(record["log"]).read_text()[-4000:]
    assert {f["kind"] for f in record["faults"]} == kinds
    assert all(f["injected"] for f in record["faults"]), (record["faults"], log)
    assert record["outcome"] in ("succeeded", "recovered"), (record["reason"], log)
    assert record["outcome"] == "recovered"   # the mission was sent again to the restarted supervisor
    assert record["safety_held"], (record["safety"], log)
    assert record["hung"] == [], log
    assert result["totals"]["hangs"] == 0 and result["totals"]["safety_violations"] == 0


def test_the_executed_track_leaves_out_an_odometry_gap_instead_of_bridging_it():
    """An odometry stop leaves a gap in a robot's samples; the supervisor's executed track (whose separation
    and clearance decide a mission) must not invent a straight chord across it."""
    import numpy as np

    from dro_ros.ros.receding_fleet import ODOMETRY_GAP, observed

    stamps = np.concatenate([np.arange(0.0, 2.0, 0.02), np.arange(6.0, 8.0, 0.02)])   # silent from 2 s to 6 s
    times = np.arange(0.0, 8.0, 0.01)
    kept = observed(stamps, times)
    assert kept[(times < 1.98) | ((times > 6.0) & (times < 7.98))].all()
    assert not kept[(times > 1.99) & (times < 6.0)].any()
    assert observed(np.array([0.0, ODOMETRY_GAP]), np.array([ODOMETRY_GAP / 2])).all()   # a late sample is bridged
