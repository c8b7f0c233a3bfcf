"""A fleet config, typed: one YAML file becomes one validated `FleetConfig` at the boundary.

The variant is explicit, `kind:` (a pydantic discriminated union), never guessed from which keys exist:

    kind: trajectory    robots planning trajectories (`scenario`, CDS-PS / CDS-BS / NC-ADMM), with the
                        simulator, a tracker per robot and the supervisor; `robot: {kind: holonomic}`
                        (default) or `{kind: diff_drive, ...}` says what the robots are
    kind: agents        one agent per robot on a `topology` (averaging, COHDA, ...)
    kind: coordinated   an ADMM coordinator and one agent per robot in a star
    kind: scheduler     the MOSAIC scheduler service

Every field is checked once here; an error names its path (`supervisor.lead: Input should be greater than
0`, `scenario.r_min: expected float`). A trajectory scenario is parsed once (`registry.parse_scenario`) and
kept on the config. Node sections carry only what the file sets: each node owns its defaults, so a node
started without a config (`ros2 run`) behaves the same. Pure Python: no rclpy.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, PrivateAttr,
                      TypeAdapter, ValidationError, model_validator)

from dro_ros.core.simple import NetworkModel
from dro_ros.spec.registry import SpecError, parse_scenario, trajectory_algorithms

if TYPE_CHECKING:
    import numpy as np

    from dro_ros.fleet.diff_drive import DiffDrive
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


class Limits(_Strict):
    """Messages an agent keeps queued (`core.carrier.Limits`; README "Resource limits")."""

    inbox: PositiveInt | None = None     # per sender, waiting for the handler
    backlog: PositiveInt | None = None   # per receiver, waiting for its reader


class NetworkSection(_Strict):
    """Simulated link faults on every agent's carrier (`core.simple.NetworkModel`; README "Link faults")."""

    delay: NonNegativeFloat | list[NonNegativeFloat] | None = None   # s, or [low, high] drawn per message
    drop_probability: NonNegativeFloat | None = None
    seed: int | None = None
    outages: list[dict[str, Any]] | None = None   # {robot, start, duration}: s since the agent process started

    @model_validator(mode="after")
    def _model(self) -> "NetworkSection":
        NetworkModel.from_config(self.spec())   # a ValueError names the field
        return self

    def spec(self) -> dict[str, Any]:
        """The `network` of every agent's spec (`AgentSpec.network`)."""
        return self.model_dump(exclude_none=True)


class AgentSection(_Strict):
    """`agent_node` parameters shared by every robot."""

    heartbeat: PositiveFloat | None = None
    frame_id: str | None = None
    autostart: bool | None = None
    plan_on_activate: bool | None = None
    fleet_name: str | None = None          # envelopes of another fleet are refused (default: problem_id)
    key_file: str | None = None            # path of the fleet key file (README "Security"); never the key


class SimulatorSection(_Strict):
    """`fleet_sim_node`: double integrators with a velocity loop, or diff-drive robots on `backend`."""

    rate: PositiveFloat | None = None
    lag: PositiveFloat | None = None
    max_accel: NonNegativeFloat | None = None
    frame_id: str | None = None
    stop_odom: list[str] | None = None
    stop_odom_after: NonNegativeFloat | None = None
    backend: Literal["kinematic", "mujoco"] | None = None   # diff-drive robots only
    seed: int | None = None                                  # mujoco: the wheels' radius errors


class TrackerSection(_Strict):
    """`tracker_node` of every robot."""

    rate: PositiveFloat | None = None
    gain: PositiveFloat | None = None
    lag: PositiveFloat | None = None
    odom_timeout: PositiveFloat | None = None
    separation_filter: bool = True   # robots keep r_min - separation_tolerance / 2 reactively
    separation_rate: PositiveFloat | None = None
    state_rate: PositiveFloat | None = None

    def parameters(self) -> dict[str, Any]:
        """The tracker_node parameters the file set (`separation_filter` becomes `separation`, set by
        `TrajectoryFleet.tracker_parameters`)."""
        return self.model_dump(exclude_none=True, exclude={"separation_filter"})


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
    switch_lead: NonNegativeFloat | None = None
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
    limits: Limits = Limits()
    network: NetworkSection = NetworkSection()
    agent: AgentSection = AgentSection()
    supervisor: SupervisorSection = SupervisorSection()
    record: str | None = None
    recorder: RecorderSection = RecorderSection()


class HolonomicRobot(_Strict):
    """A robot that takes a world-frame velocity on `cmd_vel` (`linear`); the planned point is its centre."""

    kind: Literal["holonomic"] = "holonomic"


class DiffDriveRobot(_Strict):
    """A differential-drive robot (`fleet.diff_drive`): `cmd_vel` linear.x and angular.z only. The planned
    point is `offset` m ahead of the axle; the scenario's `initial` positions are that point's."""

    kind: Literal["diff_drive"]
    body_radius: PositiveFloat       # m, the body disc about the axle centre
    wheel_base: PositiveFloat        # m, between the wheels
    wheel_radius: PositiveFloat      # m
    max_wheel_speed: PositiveFloat   # rad/s
    max_wheel_accel: PositiveFloat   # rad/s^2
    offset: PositiveFloat            # m, the tracked point ahead of the axle centre
    heading: float | list[float] | None = None   # rad, at the start: one for all, one per robot, or none

    def geometry(self) -> "DiffDrive":
        from dro_ros.fleet.diff_drive import DiffDrive

        return DiffDrive(self.body_radius, self.wheel_base, self.wheel_radius, self.max_wheel_speed,
                         self.max_wheel_accel, self.offset)

    def headings(self, initial: "np.ndarray", goals: "np.ndarray") -> list[float]:
        """Start headings (rad) per robot: as given, else along the initial velocity of the tracked point,
        or, at rest, towards its goal `goals` (N, 2)."""
        import numpy as np

        if isinstance(self.heading, list):
            return [float(h) for h in self.heading]
        if self.heading is not None:
            return [float(self.heading)] * len(initial)
        position, velocity = initial[:, :2], initial[:, 2:4]
        moving = np.linalg.norm(velocity, axis=1) > 1e-9
        direction = np.where(moving[:, None], velocity, goals - position)
        return [float(h) for h in np.arctan2(direction[:, 1], direction[:, 0])]


Robot = Annotated[Union[HolonomicRobot, DiffDriveRobot], Field(discriminator="kind")]


class TrajectoryFleet(_Fleet):
    kind: Literal["trajectory"]
    problem_id: str = "fleet"
    scenario: dict[str, Any]
    algorithm: str = "path_sweep"
    robot: Robot = HolonomicRobot()
    simulator: SimulatorSection = SimulatorSection()
    tracker: TrackerSection = TrackerSection()
    _scenario: "Scenario" = PrivateAttr()
    _planned: dict[str, Any] = PrivateAttr()

    @model_validator(mode="after")
    def _parse(self) -> "TrajectoryFleet":
        if self.algorithm not in trajectory_algorithms():
            raise ValueError(f"algorithm: a trajectory fleet runs one of {trajectory_algorithms()}, "
                             f"got {self.algorithm!r}")
        problem = parse_scenario(self.scenario, "scenario").problem
        _check_disturbances(self.scenario, problem, isinstance(self.robot, DiffDriveRobot))
        self._planned = self.scenario
        if isinstance(self.robot, DiffDriveRobot):
            self._planned = {**self.scenario, "r_min": _check_diff_drive(self.robot, problem)}
        if self.simulator.backend == "mujoco":
            if not isinstance(self.robot, DiffDriveRobot):
                raise ValueError("simulator.backend: mujoco simulates diff_drive robots (robot.kind)")
            moving = [i for i, row in enumerate(problem.initial) if any(row[2:] != 0)]
            if moving:
                raise ValueError(f"simulator.backend: mujoco starts the robots at rest; scenario.initial gives "
                                 f"robots {moving} a velocity")
        self._scenario = parse_scenario(self._planned, "scenario")
        return self

    @property
    def planned_scenario(self) -> dict[str, Any]:
        """The scenario the agents plan: `scenario`, with a diff-drive fleet's r_min inflated to the
        tracked points' separation (`DiffDrive.planned_separation`)."""
        return self._planned

    @property
    def parsed_scenario(self) -> "Scenario":
        """The planned scenario, parsed once."""
        return self._scenario

    def robot_parameters(self) -> dict[str, Any]:
        """The `robot` section as the parameters of fleet_sim_node and tracker_node (`robot_kind`, ...);
        empty for holonomic robots, the nodes' default."""
        if not isinstance(self.robot, DiffDriveRobot):
            return {}
        return {"robot_kind": "diff_drive", **self.robot.model_dump(exclude={"kind", "heading"})}

    def tracker_parameters(self) -> dict[str, Any]:
        """Every tracker_node's parameters: the `tracker` section, the robot's geometry, and with
        `tracker.separation_filter` the filter's distance r_min - separation_tolerance / 2 (the planned
        separation less half of what the execution may lose; between diff-drive robots' tracked points, as
        planned), its obstacles (the scenario's) and their clearance less the same half tolerance."""
        from dro_ros.fleet.summary import SEPARATION_TOLERANCE

        parameters = {**self.robot_parameters(), **self.tracker.parameters()}
        if self.tracker.separation_filter:
            tolerance = self.supervisor.separation_tolerance
            tolerance = SEPARATION_TOLERANCE if tolerance is None else tolerance
            problem = self._scenario.problem
            parameters.update(separation=problem.r_min - tolerance / 2,
                              obstacles=json.dumps([o.to_config() for o in problem.obstacles]),
                              clearance=max(problem.clearance - tolerance / 2, 0.0))
        return parameters

    def start_headings(self) -> list[float]:
        """Each robot's start heading (rad); zeros for holonomic robots."""
        problem = self._scenario.problem
        if not isinstance(self.robot, DiffDriveRobot):
            return [0.0] * problem.n_agents
        return self.robot.headings(problem.initial, _goals(problem))


def _goals(problem: Any) -> "np.ndarray":
    """Each robot's terminal position (a ball's centre)."""
    import numpy as np

    return np.array([getattr(t, "centre", getattr(t, "position", None))[:2] for t in problem.terminals])


def _check_disturbances(scenario: dict[str, Any], problem: Any, diff_drive: bool) -> None:
    """The scenario's `receding_horizon` and `disturbances` (`mission.receding`), checked before anything
    starts; a ValueError names the field (pushes drift holonomic robots only)."""
    from dro_ros.mission.receding import Push, receding_from_config

    try:
        _, disturbances = receding_from_config(scenario, problem.n_agents, problem.dim)
    except ValueError as error:
        raise ValueError(f"scenario.{error}") from None
    pushed = [k for k, d in enumerate(disturbances) if isinstance(d, Push)]
    if diff_drive and pushed:
        raise ValueError(f"scenario.disturbances[{pushed[0]}]: only holonomic robots can be pushed (robot.kind)")


def _check_diff_drive(robot: DiffDriveRobot, problem: Any) -> float:
    """The tracked points' separation, after checking that the robots can honour the scenario's bounds;
    a ValueError names the field."""
    from dro_ros.fleet.diff_drive import DiffDriveError

    if problem.dim != 2:
        raise ValueError(f"robot.kind: diff_drive robots move in the plane; the scenario has dim {problem.dim}")
    geometry = robot.geometry()
    try:
        geometry.require_trackable(problem.r_min, problem.max_speed, problem.max_input)
    except DiffDriveError as error:
        field_name = str(error).split(":")[0]
        raise ValueError(f"{'scenario' if field_name in ('max_speed', 'max_input') else 'robot'}.{error}") from None
    if isinstance(robot.heading, list) and len(robot.heading) != problem.n_agents:
        raise ValueError(f"robot.heading: expected {problem.n_agents} headings, one per robot, "
                         f"got {len(robot.heading)}")
    for i, heading in enumerate(robot.headings(problem.initial, _goals(problem))):
        if not math.isfinite(heading):
            raise ValueError(f"robot.heading[{i}]: must be finite, got {heading}")
        v, omega = geometry.body_twist(heading, problem.initial[i, 2:4])
        right, left = geometry.wheel_speeds(v, omega)
        if max(abs(float(right)), abs(float(left))) > robot.max_wheel_speed:
            raise ValueError(f"robot.heading[{i}]: at {heading:g} rad the initial velocity "
                             f"{list(problem.initial[i, 2:4])} needs wheel speeds ({float(right):.3g}, "
                             f"{float(left):.3g}) rad/s, beyond max_wheel_speed {robot.max_wheel_speed}")
    return geometry.planned_separation(problem.r_min)


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
    """A config file as a mapping, its `scenario` file (relative to the config) read in place, then its `set`
    section applied: dotted keys as `--set` takes them (`scenario.disturbances: [...]`), so a fleet config
    can change its scenario file's values without a copy of it. Validate the result with
    `parse_fleet_config` (after any command-line overrides)."""
    path = Path(path)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    if isinstance(data.get("scenario"), str):
        scenario_file = path.parent / data["scenario"]
        if not scenario_file.is_file():
            raise SpecError(f"scenario: no file {scenario_file}")
        data["scenario"] = yaml.safe_load(scenario_file.read_text())
    overrides = data.pop("set", None) or {}
    if not isinstance(overrides, dict) or not all(isinstance(key, str) and key for key in overrides):
        raise SpecError(f"set: expected a mapping of dotted keys to values, got {overrides!r}")
    for key, value in overrides.items():
        set_value(data, key, value)
    return data


def set_value(config: dict[str, Any], key: str, value: Any) -> None:
    """Override one config value in place: `key` is dotted (`scenario.receding_horizon.period`), missing
    sections are created."""
    *sections, name = key.split(".")
    target = config
    for section in sections:
        target = target.setdefault(section, {})
        if not isinstance(target, dict):
            raise SpecError(f"{key}: {section} is not a section (a mapping)")
    target[name] = value


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"][1:])  # [0] is the union member, e.g. 'trajectory'
    message = str(error.get("ctx", {}).get("error", "")) or error["msg"]
    message = message.removeprefix("Value error, ")
    if where and not message.startswith(f"{where.split('.')[0]}"):
        return f"{where}: {message}"
    return message
