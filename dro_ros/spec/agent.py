"""What one agent process runs: an `AgentSpec`, validated from JSON/YAML, and the agent it builds.

Pure Python (no rclpy), so specs are checked by tests and by the launcher before any process starts.
The agent comes from the algorithm's factory in `registry`. Errors name the offending field, e.g.
`params.tol: expected a positive number, got -1`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dro_ros.core.carrier import Agent
from dro_ros.core.simple import NetworkModel
from dro_ros.spec.registry import SpecError, make_agent
from dro_ros.spec.registry import algorithm as registered

ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AgentSpec:
    address: str
    neighbours: list[str]
    fleet: list[str]
    problem_id: str
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)   # `core.carrier.Limits` fields: inbox, backlog
    network: dict[str, Any] = field(default_factory=dict)  # `core.simple.NetworkModel.from_config`: link faults

    @classmethod
    def from_dict(cls, data: Any) -> "AgentSpec":
        if not isinstance(data, dict):
            raise SpecError(f"spec: expected an object, got {type(data).__name__}")
        known = {"address", "neighbours", "fleet", "problem_id", "algorithm", "params", "timeouts", "limits", "network"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"spec: unknown field(s) {', '.join(unknown)}")
        address = _address(data.get("address"), "address")
        fleet = [_address(a, f"fleet[{i}]") for i, a in enumerate(_list(data.get("fleet"), "fleet"))]
        neighbours = [_address(a, f"neighbours[{i}]")
                      for i, a in enumerate(_list(data.get("neighbours", []), "neighbours"))]
        if address not in fleet:
            raise SpecError(f"fleet: does not contain the agent's own address {address!r}")
        for i, neighbour in enumerate(neighbours):
            if neighbour not in fleet or neighbour == address:
                raise SpecError(f"neighbours[{i}]: {neighbour!r} is not another member of the fleet")
        algorithm = registered(data.get("algorithm")).name
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise SpecError("params: expected an object")
        timeouts = data.get("timeouts", {})
        if not isinstance(timeouts, dict):
            raise SpecError("timeouts: expected an object")
        for name, value in timeouts.items():
            if name not in ("discovery", "stall", "wall", "linger", "shutdown"):
                raise SpecError(f"timeouts.{name}: unknown timeout")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise SpecError(f"timeouts.{name}: expected a non-negative number of seconds, got {value!r}")
        limits = data.get("limits", {})
        if not isinstance(limits, dict):
            raise SpecError("limits: expected an object")
        for name, value in limits.items():
            if name not in ("inbox", "backlog"):
                raise SpecError(f"limits.{name}: unknown limit")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"limits.{name}: expected a positive number of messages, got {value!r}")
        network = data.get("network", {})
        try:
            NetworkModel.from_config(network if isinstance(network, dict) else None)
        except ValueError as error:
            raise SpecError(str(error)) from None
        if not isinstance(network, dict):
            raise SpecError("network: expected an object")
        for k, outage in enumerate(network.get("outages") or []):
            if outage["robot"] not in fleet:
                raise SpecError(f"network.outages[{k}].robot: {outage['robot']!r} is not in the fleet")
        problem_id = data.get("problem_id", "run")
        if not isinstance(problem_id, str):
            raise SpecError("problem_id: expected a string")
        return cls(address, neighbours, fleet, problem_id, algorithm, dict(params), dict(timeouts), dict(limits),
                   dict(network))

    def to_parameters(self) -> dict[str, Any]:
        """The spec as flat ROS parameters of `agent_node` (see `from_parameters`). Empty lists are
        left out: a ROS parameter file cannot give an empty list a type."""
        values: dict[str, Any] = {"robot_id": self.address, "fleet": list(self.fleet), "algorithm": self.algorithm,
                                  "problem_id": self.problem_id, "params": json.dumps(self.params)}
        if self.neighbours:
            values["neighbours"] = list(self.neighbours)
        values.update({f"timeouts.{name}": float(value) for name, value in self.timeouts.items()})
        values.update({f"limits.{name}": value for name, value in self.limits.items()})
        if self.network:
            values["network"] = json.dumps(self.network)
        return values

    @classmethod
    def from_parameters(cls, values: dict[str, Any]) -> "AgentSpec":
        """Inverse of `to_parameters`; `params` is JSON text (nested data such as a scenario). Unset
        values (None) take their defaults."""
        try:
            params = json.loads(values.get("params") or "{}")
        except json.JSONDecodeError as error:
            raise SpecError(f"params: expected JSON text ({error})") from None
        try:
            network = json.loads(values.get("network") or "{}")
        except json.JSONDecodeError as error:
            raise SpecError(f"network: expected JSON text ({error})") from None
        timeouts, limits = ({key.split(".", 1)[1]: value for key, value in values.items()
                             if key.startswith(prefix) and value is not None} for prefix in ("timeouts.", "limits."))
        return cls.from_dict({"address": values.get("robot_id"), "fleet": list(values.get("fleet") or []),
                              "neighbours": list(values.get("neighbours") or []),
                              "algorithm": values.get("algorithm"), "problem_id": values.get("problem_id") or "run",
                              "params": params, "timeouts": timeouts, "limits": limits, "network": network})

    @property
    def network_model(self) -> NetworkModel:
        """The link faults the agent's carrier simulates (none by default)."""
        return NetworkModel.from_config(self.network)

    def build_agent(self) -> Agent:
        """A fresh agent from the algorithm's registered factory (`registry.make_agent`)."""
        return make_agent(self.algorithm, self.params)


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ADDRESS.match(value):
        raise SpecError(f"{where}: expected an address (a ROS name: letter, then letters, digits, _), "
                        f"got {value!r}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list, got {type(value).__name__}")
    return value
