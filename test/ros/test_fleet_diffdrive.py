"""The small formation on differential-drive robots in MuJoCo, over DDS: config/formation_small_diffdrive.yaml
started by the `dro-ros fleet up` launcher, every node its own process (4 robots from rest, T = 16 s).

What must hold (issue 16's targets): the trackers drive the robots with Twist linear.x / angular.z on
their wheel odometry; verified on the ground truth, no two bodies touch, the centres stay r_min = 0.3 m
apart (less the config's 5 cm tolerance) and every tracked point ends within 5 cm of its plan.
"""
import json
from pathlib import Path

from dro_ros.ros.fleet_up import Fleet
from dro_ros.ros.launch_plan import node_list
from dro_ros.spec.fleet_config import read_fleet_file

ROOT = Path(__file__).resolve().parents[2]


def test_diff_drive_formation_flies_in_mujoco_without_contact_and_ends_on_its_plan(tmp_path):
    config = read_fleet_file(ROOT / "config" / "formation_small_diffdrive.yaml")
    config["supervisor"].update(output="", summary=str(tmp_path / "summary.json"))
    log = tmp_path / "fleet.log"
    with open(log, "w") as out, Fleet(node_list(config), isolated=True, out=out) as fleet:
        code = fleet.wait(timeout=150)
    assert code == 0, log.read_text()[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] and summary["contacts"] == 0
    assert summary["r_centre"] == 0.3 and summary["min_centre_separation"] >= 0.3 - 0.05
    assert summary["min_separation"] >= summary["r_min"] - 0.05   # the tracked points, planned 0.5 m apart
    assert summary["terminal_position_error"] <= 0.05
    assert "body contact" not in log.read_text()
