"""Config file -> the list of nodes to start. Pure Python (no launch, no rclpy), tested directly.

Launch files map each `NodeDescription` to `launch_ros.actions.Node`; a local launcher can start the same
list as OS processes. Config (YAML):

    problem_id: averaging_demo     # run id carried in every message
    algorithm: averaging
    topology: {kind: ring, n: 6}   # ring | complete | small_world (phi, seed) | edges (list of pairs)
    names: [robot_0, ...]          # optional, default robot_<i>
    params: {tol: 1.0e-9}          # algorithm parameters shared by all agents
    initial: [3.1, 0.4, ...]       # per-agent initial value (averaging)
    timeouts: {discovery: 30, stall: 30, wall: 600}
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dro_ros.core.topology import Topology, complete, ring, small_world
from dro_ros.ros.specs import AgentSpec, SpecError


@dataclass(frozen=True)
class NodeDescription:
    executable: str
    name: str
    namespace: str
    arguments: list[str]


def load_config(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    return data


def topology_from(config: dict[str, Any]) -> Topology:
    spec = config.get("topology")
    if not isinstance(spec, dict) or "n" not in spec:
        raise SpecError("topology: expected a mapping with 'kind' and 'n'")
    kind, n = spec.get("kind"), spec["n"]
    if kind == "ring":
        return ring(n)
    if kind == "complete":
        return complete(n)
    if kind == "small_world":
        return small_world(n, spec.get("phi", 1.0), spec.get("seed", 0))
    if kind == "edges":
        return Topology.from_edges(n, [tuple(e) for e in spec.get("edges", [])])
    raise SpecError(f"topology.kind: expected ring, complete, small_world or edges, got {kind!r}")


def agent_specs(config: dict[str, Any]) -> list[AgentSpec]:
    """One validated `AgentSpec` per agent of the config."""
    topology = topology_from(config)
    names = config.get("names") or [f"robot_{i}" for i in range(topology.n)]
    if len(names) != topology.n:
        raise SpecError(f"names: {len(names)} names for {topology.n} agents")
    initial = config.get("initial")
    if not isinstance(initial, list) or len(initial) != topology.n:
        raise SpecError(f"initial: expected a list of {topology.n} values")
    specs = []
    for i, name in enumerate(names):
        params = {**config.get("params", {}), "initial": initial[i]}
        if "tol" in params:
            params.setdefault("diameter_bound", topology.diameter())
        specs.append(AgentSpec.from_dict({
            "address": name, "neighbours": [names[j] for j in topology.neighbours[i]], "fleet": list(names),
            "problem_id": config.get("problem_id", "run"), "algorithm": config.get("algorithm", "averaging"),
            "params": params, "timeouts": config.get("timeouts", {})}))
    return specs


def node_list(config: dict[str, Any]) -> list[NodeDescription]:
    return [NodeDescription("agent_node", "agent", f"/{spec.address}",
                            ["--spec", json.dumps(spec.__dict__)]) for spec in agent_specs(config)]
