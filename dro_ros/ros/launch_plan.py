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


def fleet_specs(topology: Topology, names: list[str], algorithm: str, params: list[dict[str, Any]],
                problem_id: str, timeouts: dict[str, float]) -> list[dict[str, Any]]:
    """One spec (JSON-able dict) per agent: its address, its neighbours under `topology`, the fleet,
    and its own `params`; the shape `AgentSpec.from_dict` and `agent_node --spec` take."""
    return [{"address": name, "neighbours": [names[j] for j in topology.neighbours[i]], "fleet": list(names),
             "problem_id": problem_id, "algorithm": algorithm, "params": params[i], "timeouts": dict(timeouts)}
            for i, name in enumerate(names)]


def agent_specs(config: dict[str, Any]) -> list[AgentSpec]:
    """One validated `AgentSpec` per agent of the config."""
    topology = topology_from(config)
    names = config.get("names") or [f"robot_{i}" for i in range(topology.n)]
    if len(names) != topology.n:
        raise SpecError(f"names: {len(names)} names for {topology.n} agents")
    initial = config.get("initial")
    if not isinstance(initial, list) or len(initial) != topology.n:
        raise SpecError(f"initial: expected a list of {topology.n} values")
    params = [{**config.get("params", {}), "initial": value} for value in initial]
    for agent_params in params:
        if "tol" in agent_params:
            agent_params.setdefault("diameter_bound", topology.diameter())
    return [AgentSpec.from_dict(spec) for spec in fleet_specs(
        topology, names, config.get("algorithm", "averaging"), params, config.get("problem_id", "run"),
        config.get("timeouts", {}))]


def node_list(config: dict[str, Any]) -> list[NodeDescription]:
    return [NodeDescription("agent_node", "agent", f"/{spec.address}",
                            ["--spec", json.dumps(spec.__dict__)]) for spec in agent_specs(config)]
