"""The launch files' node list, built by the pure function they share."""
import ast
import json
from pathlib import Path

import pytest

from dro_ros.ros.launch_plan import load_config, node_list
from dro_ros.ros.specs import AgentSpec, SpecError

ROOT = Path(__file__).resolve().parents[1]


def test_averaging_config_gives_one_agent_node_per_robot_with_its_ring_neighbours():
    nodes = node_list(load_config(ROOT / "config" / "averaging_ring6.yaml"))
    assert [n.namespace for n in nodes] == [f"/robot_{i}" for i in range(6)]
    spec = AgentSpec.from_dict(json.loads(nodes[0].arguments[1]))
    assert spec.neighbours == ["robot_1", "robot_5"] and spec.params["diameter_bound"] == 3
    assert spec.params["initial"] == 4.2 and all(n.executable == "agent_node" for n in nodes)


def test_a_bad_config_names_the_field():
    config = load_config(ROOT / "config" / "averaging_ring6.yaml")
    config["initial"] = [1.0, 2.0]
    with pytest.raises(SpecError, match="initial: expected a list of 6 values"):
        node_list(config)


def test_launch_file_is_valid_python_using_the_shared_plan():
    source = (ROOT / "launch" / "averaging.launch.py").read_text()
    tree = ast.parse(source)
    assert "generate_launch_description" in {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert "node_list" in source
