"""What one agent process runs: an `AgentSpec`, validated from JSON/YAML, and the agent it builds.

Pure Python (no rclpy), so specs are checked by tests and by the launcher before any process starts.
Errors name the offending field, e.g. `params.tol: expected a positive number, got -1`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from dro_ros.core.carrier import Agent

ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SpecError(ValueError):
    """An invalid agent spec; the message names the field."""


@dataclass(frozen=True)
class AgentSpec:
    address: str
    neighbours: list[str]
    fleet: list[str]
    problem_id: str
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> "AgentSpec":
        if not isinstance(data, dict):
            raise SpecError(f"spec: expected an object, got {type(data).__name__}")
        known = {"address", "neighbours", "fleet", "problem_id", "algorithm", "params", "timeouts"}
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
        algorithm = data.get("algorithm")
        if algorithm not in ALGORITHMS:
            raise SpecError(f"algorithm: expected one of {sorted(ALGORITHMS)}, got {algorithm!r}")
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
        problem_id = data.get("problem_id", "run")
        if not isinstance(problem_id, str):
            raise SpecError("problem_id: expected a string")
        return cls(address, neighbours, fleet, problem_id, algorithm, dict(params), dict(timeouts))

    def to_parameters(self) -> dict[str, Any]:
        """The spec as flat ROS parameters of `agent_node` (see `from_parameters`). Empty lists are
        left out: a ROS parameter file cannot give an empty list a type."""
        values: dict[str, Any] = {"robot_id": self.address, "fleet": list(self.fleet), "algorithm": self.algorithm,
                                  "problem_id": self.problem_id, "params": json.dumps(self.params)}
        if self.neighbours:
            values["neighbours"] = list(self.neighbours)
        values.update({f"timeouts.{name}": float(value) for name, value in self.timeouts.items()})
        return values

    @classmethod
    def from_parameters(cls, values: dict[str, Any]) -> "AgentSpec":
        """Inverse of `to_parameters`; `params` is JSON text (nested data such as a scenario). Unset
        values (None) take their defaults."""
        try:
            params = json.loads(values.get("params") or "{}")
        except json.JSONDecodeError as error:
            raise SpecError(f"params: expected JSON text ({error})") from None
        timeouts = {key.split(".", 1)[1]: value for key, value in values.items()
                    if key.startswith("timeouts.") and value is not None}
        return cls.from_dict({"address": values.get("robot_id"), "fleet": list(values.get("fleet") or []),
                              "neighbours": list(values.get("neighbours") or []),
                              "algorithm": values.get("algorithm"), "problem_id": values.get("problem_id") or "run",
                              "params": params, "timeouts": timeouts})

    def build_agent(self) -> Agent:
        try:
            return ALGORITHMS[self.algorithm](**self.params)
        except (TypeError, ValueError) as error:
            raise SpecError(f"params: {error}") from None


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ADDRESS.match(value):
        raise SpecError(f"{where}: expected an address (a ROS name: letter, then letters, digits, _), "
                        f"got {value!r}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _averaging(**params: Any) -> Agent:
    from dro_ros.resource.averaging import AveragingAgent

    initial = params.pop("initial")
    return AveragingAgent(initial, **params)


def _cohda(**params: Any) -> Agent:
    from dro_ros.resource.cohda import cohda_agent

    return cohda_agent(**params)


def _flex(**params: Any) -> Agent:
    from dro_ros.resource.admm import FlexActor

    return FlexActor(**params)


def _admm_coordinator(kind: str, target: list[float], weights: list[float] | None = None, penalty: float = 1.0,
                      **options: Any) -> Agent:
    import numpy as np

    from dro_ros.resource.admm import AdmmCoordinator, AdmmOptions, AdmmStart

    weights = np.ones(len(target)) if weights is None else np.asarray(weights, dtype=float)
    return AdmmCoordinator(kind, AdmmOptions(**options), penalty=penalty,
                           start=AdmmStart(np.asarray(target, dtype=float), weights))


def _echo(**params: Any) -> Agent:
    from dro_ros.bench.transport import EchoAgent

    return EchoAgent(**params)


def _path_sweep(scenario: dict[str, Any], index: int, names: list[str], eas: bool = False) -> Agent:
    """Agent `index` of CDS-PS on the scenario config `scenario` (the same mapping for every agent)."""
    from dro_ros.graph.cds import find_path_cds, sweep_path
    from dro_ros.trajectory.eas import EasParameters
    from dro_ros.trajectory.path_sweep import PathSweepAgent
    from dro_ros.trajectory.scenarios import scenario_from_config

    loaded = scenario_from_config(scenario)
    sweep = sweep_path(loaded.graph, loaded.path) if loaded.path else find_path_cds(loaded.graph)
    settings = EasParameters(**(loaded.eas or {})) if eas else None
    return PathSweepAgent(loaded.problem, sweep, index, names, settings)


def _branch_sweep(scenario: dict[str, Any], index: int, names: list[str]) -> Agent:
    """Agent `index` of CDS-BS on the scenario config `scenario`."""
    from dro_ros.graph.trees import root_tree
    from dro_ros.trajectory.branch_sweep import BranchSweepAgent
    from dro_ros.trajectory.scenarios import scenario_from_config

    loaded = scenario_from_config(scenario)
    return BranchSweepAgent(loaded.problem, root_tree(loaded.graph, loaded.root), index, names, loaded.prediction)


def _nc_admm(scenario: dict[str, Any], index: int, names: list[str], **settings: Any) -> Agent:
    """Agent `index` of NC-ADMM on the scenario config `scenario`; `settings` are `NcAdmmSettings` fields
    (the diameter bound defaults to the graph's diameter)."""
    from dro_ros.trajectory.nc_admm import NcAdmmSettings, nc_admm_agent
    from dro_ros.trajectory.scenarios import scenario_from_config

    loaded = scenario_from_config(scenario)
    settings.setdefault("diameter_bound", loaded.graph.diameter())
    return nc_admm_agent(loaded, index, names, NcAdmmSettings(**settings))


ALGORITHMS: dict[str, Callable[..., Agent]] = {
    "admm_coordinator": _admm_coordinator, "averaging": _averaging, "branch_sweep": _branch_sweep,
    "cohda": _cohda, "echo": _echo, "flex": _flex, "nc_admm": _nc_admm, "path_sweep": _path_sweep}
