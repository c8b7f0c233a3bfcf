"""A fleet config, typed: one YAML file becomes one validated `FleetConfig` at the boundary.

The variant is explicit, `kind:` (a pydantic discriminated union), never guessed from which keys exist:

    kind: trajectory    robots planning trajectories (`scenario`, CDS-PS / CDS-BS / NC-ADMM), with the
                        simulator, a tracker per robot and the supervisor
    kind: agents        one agent per robot on a `topology` (averaging, COHDA, ...)
    kind: coordinated   an ADMM coordinator and one agent per robot in a star
    kind: scheduler     the MOSAIC scheduler service

Every field is checked once here; an error names its path (`supervisor.lead: Input should be greater than
0`, `scenario.r_min: expected float`). A trajectory scenario is parsed once (`registry.parse_scenario`) and
kept on the config. Node sections carry only what the file sets: each node owns its defaults, so a node
started without a config (`ros2 run`) behaves the same. Pure Python: no rclpy.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, PrivateAttr,
                      TypeAdapter, ValidationError, model_validator)

from dro_ros.spec.registry import SpecError, parse_scenario, trajectory_algorithms

if TYPE_CHECKING:
    from dro_ros.trajectory.scenarios import Scenario


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def parameters(self) -> dict[str, Any]:
        """The fields the file set, as flat ROS parameters."""
        return self.model_dump(exclude_none=True)


class Timeouts(_Strict):
    """Seconds, for every agent (README "Every wait has a timeout")."""

    discovery: NonNegativeFloat | None = None
    stall: NonNegativeFloat | None = None
    wall: NonNegativeFloat | None = None
    linger: NonNegativeFloat | None = None
    shutdown: NonNegativeFloat | None = None


class AgentSection(_Strict):
    """`agent_node` parameters shared by every robot."""

    heartbeat: PositiveFloat | None = None
    frame_id: str | None = None
    autostart: bool | None = None
    plan_on_activate: bool | None = None


class SimulatorSection(_Strict):
    """`fleet_sim_node`: double integrators with a velocity loop."""

    rate: PositiveFloat | None = None
    lag: PositiveFloat | None = None
    max_accel: NonNegativeFloat | None = None
    frame_id: str | None = None
    stop_odom: list[str] | None = None
    stop_odom_after: NonNegativeFloat | None = None


class TrackerSection(_Strict):
    """`tracker_node` of every robot."""

    rate: PositiveFloat | None = None
    gain: PositiveFloat | None = None
    lag: PositiveFloat | None = None
    odom_timeout: PositiveFloat | None = None


class SupervisorSection(_Strict):
    """`supervisor_node`: the mission's waits and tolerances (`mission.MissionSettings`) and its outputs."""

    ready_timeout: PositiveFloat | None = None
    plan_timeout: PositiveFloat | None = None
    stale_after: PositiveFloat | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    rejoin_timeout: PositiveFloat | None = None
    lead: NonNegativeFloat | None = None
    settle: NonNegativeFloat | None = None
    odom_timeout: PositiveFloat | None = None
    position_tolerance: NonNegativeFloat | None = None
    velocity_tolerance: NonNegativeFloat | None = None
    separation_tolerance: NonNegativeFloat | None = None
    stop_decel: NonNegativeFloat | None = None
    frame_id: str | None = None
    output: str | None = None
    summary: str | None = None


class RecorderSection(_Strict):
    """`recorder_node` (with `record: FILE.mcap`)."""

    discovery_period: PositiveFloat | None = None
    flush_period: PositiveFloat | None = None
    exclude: list[str] | None = None


class _Fleet(_Strict):
    problem_id: str = "run"
    algorithm: str
    params: dict[str, Any] = {}
    timeouts: Timeouts = Timeouts()
    agent: AgentSection = AgentSection()
    supervisor: SupervisorSection = SupervisorSection()
    record: str | None = None
    recorder: RecorderSection = RecorderSection()


class TrajectoryFleet(_Fleet):
    kind: Literal["trajectory"]
    problem_id: str = "fleet"
    scenario: dict[str, Any]
    algorithm: str = "path_sweep"
    simulator: SimulatorSection = SimulatorSection()
    tracker: TrackerSection = TrackerSection()
    _scenario: "Scenario" = PrivateAttr()

    @model_validator(mode="after")
    def _parse(self) -> "TrajectoryFleet":
        if self.algorithm not in trajectory_algorithms():
            raise ValueError(f"algorithm: a trajectory fleet runs one of {trajectory_algorithms()}, "
                             f"got {self.algorithm!r}")
        self._scenario = parse_scenario(self.scenario, "scenario")
        return self

    @property
    def parsed_scenario(self) -> "Scenario":
        """The scenario, parsed once."""
        return self._scenario


class Topology(_Strict):
    kind: Literal["ring", "complete", "small_world", "edges"]
    n: PositiveInt
    phi: NonNegativeFloat = 1.0
    seed: int = 0
    edges: list[tuple[int, int]] = []


class AgentsFleet(_Fleet):
    kind: Literal["agents"]
    algorithm: str = "averaging"
    topology: Topology
    names: list[str] | None = None
    agents: list[dict[str, Any]] | None = None   # each robot's own parameters
    initial: list[Any] | None = None             # short for agents[i].initial

    @model_validator(mode="after")
    def _one_per_robot(self) -> "AgentsFleet":
        n = self.topology.n
        for name in ("names", "agents", "initial"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"{name}: expected {n} entries, one per robot, got {len(value)}")
        if self.agents is None and self.initial is None:
            raise ValueError("agents: missing; give each robot's parameters (agents) or initial values (initial)")
        return self


class CoordinatedFleet(_Fleet):
    kind: Literal["coordinated"]
    algorithm: str = "flex"
    coordinator: dict[str, Any]
    agents: Annotated[list[dict[str, Any]], Field(min_length=1)]


class SchedulerFleet(_Strict):
    kind: Literal["scheduler"]
    scheduler: dict[str, Any] = {}
    record: str | None = None
    recorder: RecorderSection = RecorderSection()


FleetConfig = Annotated[Union[TrajectoryFleet, AgentsFleet, CoordinatedFleet, SchedulerFleet],
                        Field(discriminator="kind")]
_ADAPTER: TypeAdapter = TypeAdapter(FleetConfig)
KINDS = ("trajectory", "agents", "coordinated", "scheduler")


def parse_fleet_config(data: Any, source: str = "config") -> FleetConfig:
    """Validate a mapping (a parsed YAML file) into its `FleetConfig`; `SpecError` names every bad field."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping at the top level")
    if data.get("kind") not in KINDS:
        raise SpecError(f"kind: expected one of {', '.join(KINDS)}, got {data.get('kind')!r}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as error:
        raise SpecError("; ".join(_describe(e) for e in error.errors())) from None


def read_fleet_file(path: str | Path) -> dict[str, Any]:
    """A config file as a mapping, its `scenario` file (relative to the config) read in place; validate it
    with `parse_fleet_config` (after any command-line overrides)."""
    path = Path(path)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    if isinstance(data.get("scenario"), str):
        scenario_file = path.parent / data["scenario"]
        if not scenario_file.is_file():
            raise SpecError(f"scenario: no file {scenario_file}")
        data["scenario"] = yaml.safe_load(scenario_file.read_text())
    return data


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"][1:])  # [0] is the union member, e.g. 'trajectory'
    message = str(error.get("ctx", {}).get("error", "")) or error["msg"]
    message = message.removeprefix("Value error, ")
    if where and not message.startswith(f"{where.split('.')[0]}"):
        return f"{where}: {message}"
    return message
