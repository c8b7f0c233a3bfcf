"""The command line and the pure-Python install."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def dro_ros(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "dro_ros.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def test_help_lists_the_commands():
    result = dro_ros("--help")
    assert result.returncode == 0 and "demo" in result.stdout and "bench" in result.stdout


def test_bench_transport_prints_latency_and_throughput_for_both_carriers():
    from dro_ros.ros.processes import isolated_ros_env

    result = dro_ros("bench", "transport", "--json", "--set", "rounds=200", "--set", "burst=500",
                     env=isolated_ros_env())
    assert result.returncode == 0, result.stderr[-800:]
    figures = json.loads(result.stdout)
    for carrier in ("simple", "ros"):
        assert 0 < figures[carrier]["round_trip_us"]["p50"] <= figures[carrier]["round_trip_us"]["p95"]
        assert figures[carrier]["messages_per_second"] > 0


def test_the_core_never_imports_rclpy():
    code = ("import sys, dro_ros, dro_ros.core.simple, dro_ros.resource.averaging, dro_ros.cli, dro_ros.demo, "
            "dro_ros.spec, dro_ros.ros.processes; assert 'rclpy' not in sys.modules, 'rclpy imported'")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.skipif(os.environ.get("DRO_ROS_SKIP_VENV_TEST") == "1", reason="asked to skip")
def test_pip_install_e_alone_gives_the_library_and_the_command(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AMENT_PREFIX_PATH", "LD_LIBRARY_PATH")}
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], env=env,
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-1500:]
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util, dro_ros, dro_ros.core.simple; "
                            "print(importlib.util.find_spec('rclpy') is None)"],
                           env=env, capture_output=True, text=True, cwd=tmp_path)
    assert probe.stdout.strip() == "True", probe.stderr
    assert subprocess.run([str(venv / "bin" / "dro-ros"), "--help"], env=env, cwd=tmp_path).returncode == 0


def test_a_set_value_is_json_or_else_plain_text():
    from dro_ros.cli import option_value

    assert option_value("500") == 500 and option_value('["highs"]') == ["highs"]
    assert option_value('"run.png"') == option_value("run.png") == "run.png"


def test_an_unknown_bench_option_is_named_with_the_accepted_ones():
    result = dro_ros("bench", "platoon", "--set", "admm_iteration=40")
    assert result.returncode == 2 and not result.stdout
    assert "no option 'admm_iteration'" in result.stderr and "admm_iterations" in result.stderr


def test_the_chaos_flags_are_refused_by_a_bench_without_them():
    result = dro_ros("bench", "mpc", "--runs", "2")
    assert result.returncode == 2 and "no option --runs" in result.stderr


@pytest.mark.parametrize("name, option, named", [("mosaic", "scenario=[]", "scenario"),      # checks its own names
                                                 ("formation2d", "repeats=0", "repeats"),    # a bad value
                                                 ("chaos", "kinds=[\"meteor\"]", "kinds"),      # before any fleet
                                                 ("chaos", "scenario.receding_horizon.period=0.3",
                                                  "receding_horizon.period")])
def test_a_bad_bench_option_is_refused_by_the_benchmark_with_its_name(name, option, named):
    result = dro_ros("bench", name, "--set", option)
    assert result.returncode == 2 and not result.stdout
    assert result.stderr.startswith(f"dro-ros bench {name}: ") and named in result.stderr


@pytest.mark.parametrize("arguments, named", [
    (["--centre", "1", "nan", "--radius", "1"], "centre: contains a non-finite value"),
    (["--centre", "1", "2", "--algorithm", "teleport"], "algorithm: expected one of"),
    (["--centre", "1", "2", "--radius", "-1"], "radius: expected a finite number >= 0"),
])
def test_a_malformed_goal_exits_2_naming_the_field_before_anything_is_sent(arguments, named, capsys):
    from dro_ros.cli import main

    with pytest.raises(SystemExit) as exit_code:
        main(["fleet", "goal", *arguments])
    assert exit_code.value.code == 2 and named in capsys.readouterr().err
