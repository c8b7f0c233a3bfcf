"""The one registry of algorithms: a name -> the factory that builds one of its agents.

Every way of running an algorithm builds its agents with the factory registered here: the in-process
`run_*` functions (`run_path_sweep`, `run_branch_sweep`, `run_nc_admm`) and through them the benchmarks,
and an agent process (`AgentSpec.build_agent`, the ROS nodes). So a check in a factory (one graph node
per robot, the coarse-problem factor, the ADMM weights, ...) holds on every path, and an algorithm is
added by writing its factory next to its agent and one line below.

Two kinds of factory:
- a *trajectory* factory `make_agent(scenario, index, names, **settings)` takes the parsed `Scenario`
  (typed), the agent's index and every agent's address; the algorithm's `from_json` turns the agent's
  other JSON parameters into the factory's keyword arguments (`settings`);
- a *resource* factory takes the agent's JSON parameters as keyword arguments.

A factory is named "module:function" and imported on first use, so reading the registry loads no solver.
Pure Python: no rclpy.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from dro_ros.core.carrier import Agent

if TYPE_CHECKING:
    from dro_ros.trajectory.scenarios import Scenario

FromJson = Callable[["Scenario", dict[str, Any]], dict[str, Any]]


class SpecError(ValueError):
    """An invalid agent spec or algorithm parameter; the message names the field."""


@dataclass(frozen=True)
class Algorithm:
    """One registered algorithm. `from_json` (trajectory algorithms only) maps the JSON parameters other
    than scenario, index and names to the factory's keyword arguments, raising `SpecError` on a bad one."""

    name: str
    factory: str                       # "module:function"
    from_json: FromJson | None = None

    @property
    def trajectory(self) -> bool:
        return self.from_json is not None

    @property
    def make_agent(self) -> Callable[..., Agent]:
        """The factory itself (imported on first use)."""
        module, function = self.factory.split(":")
        return getattr(importlib.import_module(module), function)


def _path_sweep(scenario: "Scenario", params: dict[str, Any]) -> dict[str, Any]:
    """`eas: true` runs every stage by EAS with the scenario's `eas` settings; `path`, `speculate`."""
    from dro_ros.trajectory.eas import EasParameters

    _known(params, ("eas", "path", "speculate"))
    eas = _flag(params, "eas", False)
    return {"path": params.get("path"), "speculate": _flag(params, "speculate", True),
            "eas": EasParameters(**(scenario.eas or {})) if eas else None}


def _branch_sweep(scenario: "Scenario", params: dict[str, Any]) -> dict[str, Any]:
    """`root` and `prediction` (default: the scenario's)."""
    _known(params, ("root", "prediction"))
    return {key: params[key] for key in ("root", "prediction") if key in params}


def _nc_admm(scenario: "Scenario", params: dict[str, Any]) -> dict[str, Any]:
    """`NcAdmmSettings` fields, e.g. `relaxation`, `stop`, `max_iterations`."""
    from dataclasses import fields

    from dro_ros.trajectory.nc_admm import NcAdmmSettings

    _known(params, tuple(f.name for f in fields(NcAdmmSettings)))
    return {"settings": NcAdmmSettings(**params)}


def _known(params: dict[str, Any], names: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise SpecError(f"params.{unknown[0]}: unknown parameter (expected one of {', '.join(sorted(names))})")


def _flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise SpecError(f"params.{name}: expected true or false, got {value!r}")
    return value


ALGORITHMS: dict[str, Algorithm] = {algorithm.name: algorithm for algorithm in (
    Algorithm("admm_coordinator", "dro_ros.resource.admm.api:coordinator_agent"),
    Algorithm("averaging", "dro_ros.resource.averaging:AveragingAgent"),
    Algorithm("branch_sweep", "dro_ros.trajectory.branch_sweep:branch_sweep_agent", _branch_sweep),
    Algorithm("cohda", "dro_ros.resource.cohda.api:cohda_agent"),
    Algorithm("echo", "dro_ros.core.echo:EchoAgent"),
    Algorithm("flex", "dro_ros.resource.admm.flex:FlexActor"),
    Algorithm("nc_admm", "dro_ros.trajectory.nc_admm:nc_admm_agent", _nc_admm),
    Algorithm("path_sweep", "dro_ros.trajectory.path_sweep:path_sweep_agent", _path_sweep),
    Algorithm("polytope_flex", "dro_ros.resource.admm.polytope:PolytopeFlexActor"),
)}


def algorithm(name: Any) -> Algorithm:
    """The registered algorithm `name`; `SpecError` naming the field `algorithm` otherwise."""
    if not isinstance(name, str) or name not in ALGORITHMS:
        raise SpecError(f"algorithm: expected one of {sorted(ALGORITHMS)}, got {name!r}")
    return ALGORITHMS[name]


def trajectory_algorithms() -> list[str]:
    return sorted(name for name, entry in ALGORITHMS.items() if entry.trajectory)


def parse_scenario(config: Any, where: str = "params.scenario") -> "Scenario":
    """A scenario config mapping (`trajectory.scenarios`) parsed once; errors name the field under `where`."""
    from dro_ros.trajectory.problem import ProblemError
    from dro_ros.trajectory.scenarios import scenario_from_config

    if not isinstance(config, dict):
        raise SpecError(f"{where}: expected a mapping (a scenario config), got {type(config).__name__}")
    try:
        return scenario_from_config(config)
    except (ProblemError, KeyError, TypeError, ValueError) as error:
        raise SpecError(f"{where}.{error}" if isinstance(error, ProblemError) else f"{where}: {error}") from None


def make_agent(name: str, params: Mapping[str, Any]) -> Agent:
    """Build one agent of algorithm `name` from its JSON parameters. A trajectory algorithm's `params` are
    `scenario` (a config mapping), `index`, `names` and its settings; a resource algorithm's are the
    factory's keyword arguments. Every error is a `SpecError` naming the field (`params...`)."""
    entry = algorithm(name)
    params = dict(params)
    try:
        if not entry.trajectory:
            return entry.make_agent(**params)
        missing = [key for key in ("scenario", "index", "names") if key not in params]
        if missing:
            raise SpecError(f"params.{missing[0]}: missing (a trajectory agent needs scenario, index and names)")
        scenario = parse_scenario(params.pop("scenario"))
        index, names = params.pop("index"), params.pop("names")
        return entry.make_agent(scenario, index, names, **entry.from_json(scenario, params))
    except SpecError:
        raise
    except (TypeError, ValueError) as error:   # the factory's own checks name their field
        raise SpecError(f"params: {error}") from None
