"""Fleet config -> the nodes to start. Pure Python (no launch, no rclpy), tested directly.

The launch files map each `NodeDescription` to `launch_ros.actions.Node`; `dro-ros fleet up` starts the
same list as OS processes. The config is validated once into its typed `FleetConfig`
(`dro_ros.spec.fleet_config`, every field documented in `config/*.yaml`); its `kind` says what runs:

- **trajectory**: one `agent_node` and one `tracker_node` per robot in `/<robot>`, the `fleet_sim_node`
  and the `supervisor_node`. Diff-drive robots (`robot: {kind: diff_drive, ...}`) give the simulator and
  the trackers their geometry, the simulator their start headings, and the supervisor the tracked point's
  offset and the ground-truth topic it verifies on. The scenario (a file relative to the config, or a
  mapping) gives the problem, the communication graph and the robots `robot_0..robot_{N-1}`.
- **agents**: one `agent_node` per robot running `algorithm` with the shared `params` plus its own entry
  of `agents` (`initial: [...]` is short for `agents[i].initial`) on `topology`, and the
  `supervisor_node`, which starts the run and prints each robot's result.
- **coordinated**: ADMM with a `coordinator_node` in `/coordinator` (its parameters are `coordinator`) and
  one `agent_node` per robot (`algorithm`, e.g. flex), in a star.
- **scheduler**: the `scheduler_node` with its parameters.

`record: FILE.mcap` adds a `recorder_node` (parameters `recorder`) before the others.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from dro_ros.core.topology import Topology, complete, ring, small_world
from dro_ros.spec import AgentSpec, SpecError
from dro_ros.spec.fleet_config import (AgentsFleet, CoordinatedFleet, FleetConfig, SchedulerFleet,
                                       TrajectoryFleet, parse_fleet_config, read_fleet_file)


@dataclass(frozen=True)
class NodeDescription:
    """One node: `executable` of package dro_ros, its name, namespace and ROS parameters (flat names).
    The run ends when a `required` node exits."""

    executable: str
    name: str
    namespace: str
    parameters: dict[str, Any] = field(default_factory=dict)
    required: bool = False


def load_config(path: str | Path) -> FleetConfig:
    """Read and validate a fleet config (its `scenario` file, relative to the config, read in place)."""
    return parse_fleet_config(read_fleet_file(path), str(path))


def typed(config: FleetConfig | Mapping[str, Any]) -> FleetConfig:
    """`config` itself, or a mapping validated into its `FleetConfig`."""
    return parse_fleet_config(dict(config)) if isinstance(config, Mapping) else config


def topology_from(config: AgentsFleet) -> Topology:
    spec = config.topology
    if spec.kind == "ring":
        return ring(spec.n)
    if spec.kind == "complete":
        return complete(spec.n)
    if spec.kind == "small_world":
        return small_world(spec.n, spec.phi, spec.seed)
    return Topology.from_edges(spec.n, spec.edges)


def fleet_specs(topology: Topology, names: list[str], algorithm: str, params: list[dict[str, Any]],
                problem_id: str, timeouts: dict[str, float]) -> list[dict[str, Any]]:
    """One spec (JSON-able dict) per agent: its address, its neighbours under `topology`, the fleet,
    and its own `params`; the shape `AgentSpec.from_dict` and `agent_once --spec` take."""
    return [{"address": name, "neighbours": [names[j] for j in topology.neighbours[i]], "fleet": list(names),
             "problem_id": problem_id, "algorithm": algorithm, "params": params[i], "timeouts": dict(timeouts)}
            for i, name in enumerate(names)]


def agent_specs(config: FleetConfig | Mapping[str, Any]) -> list[AgentSpec]:
    """One validated `AgentSpec` per robot of the config."""
    config = typed(config)
    if isinstance(config, TrajectoryFleet):
        return _trajectory_specs(config)
    if isinstance(config, CoordinatedFleet):
        return _coordinated_specs(config)
    if isinstance(config, SchedulerFleet):
        raise SpecError("kind: a scheduler fleet runs no agents")
    topology = topology_from(config)
    names = config.names or [f"robot_{i}" for i in range(topology.n)]
    own = config.agents if config.agents is not None else [{"initial": value} for value in config.initial]
    params = []
    for entry in own:
        params.append({**config.params, **entry})
        if "tol" in params[-1]:
            params[-1].setdefault("diameter_bound", topology.diameter())
    return [AgentSpec.from_dict(spec) for spec in fleet_specs(
        topology, names, config.algorithm, params, config.problem_id, config.timeouts.parameters())]


def _trajectory_specs(config: TrajectoryFleet) -> list[AgentSpec]:
    from dro_ros.trajectory.outcome import agent_names

    scenario = config.parsed_scenario
    names = agent_names(scenario.problem.n_agents)
    params = [{"scenario": config.planned_scenario, "index": i, "names": names, **config.params}
              for i in range(len(names))]
    return [AgentSpec.from_dict(spec) for spec in fleet_specs(
        scenario.graph, names, config.algorithm, params, config.problem_id, config.timeouts.parameters())]


def _coordinated_specs(config: CoordinatedFleet) -> list[AgentSpec]:
    """A star: the coordinator (address `coordinator`, algorithm `admm_coordinator`, parameters
    `coordinator`) and the robots, each with its own `agents` entry, talking only to it."""
    names = [f"robot_{i}" for i in range(len(config.agents))]
    star = Topology.from_edges(len(names) + 1, [(0, k) for k in range(1, len(names) + 1)])
    params = [config.coordinator] + [{**config.params, **entry} for entry in config.agents]
    specs = fleet_specs(star, ["coordinator"] + names, config.algorithm, params, config.problem_id,
                        config.timeouts.parameters())
    specs[0]["algorithm"] = "admm_coordinator"
    return [AgentSpec.from_dict(spec) for spec in specs]


def node_list(config: FleetConfig | Mapping[str, Any], *, serve: bool = False) -> list[NodeDescription]:
    """Every node the config asks for, in start order (simulator and trackers before the agents).

    `serve` (trajectory fleets): the robots start at rest at the config's initial positions, and the
    supervisor serves missions on `/fleet/mission` instead of flying the config's own problem once."""
    config = typed(config)
    if isinstance(config, SchedulerFleet):
        return recorder(config) + [NodeDescription("scheduler_node", "scheduler", "/", _flat(config.scheduler))]
    specs = agent_specs(config)
    robots = [spec.address for spec in specs]
    nodes = []
    supervisor = {"robots": robots, "problem_id": specs[0].problem_id, **config.supervisor.parameters()}
    if isinstance(config, TrajectoryFleet):
        problem = config.parsed_scenario.problem
        initial = problem.initial.copy()
        if serve:
            initial[:, problem.dim:] = 0.0  # at rest, waiting for missions
        robot = config.robot_parameters()
        simulator = {"robots": robots, "dim": problem.dim, "initial": [float(v) for v in initial.ravel()],
                     "running": serve, **robot, **config.simulator.parameters()}
        if robot:
            simulator["heading"] = config.start_headings()
            supervisor.update(tracked_offset=robot["offset"], truth_topic="ground_truth")
        nodes.append(NodeDescription("fleet_sim_node", "fleet_sim", "/", simulator))
        tracker = config.tracker_parameters()
        nodes += [NodeDescription("tracker_node", "tracker", f"/{name}", {"robot_id": name, **tracker})
                  for name in robots]
        supervisor.update(scenario=json.dumps(config.planned_scenario), algorithm=config.algorithm, serve=serve)
    agent = {"autostart": True, "plan_on_activate": False, **config.agent.parameters(),
             **{f"limits.{name}": value for name, value in config.limits.parameters().items()},
             **({"network": json.dumps(config.network.spec())} if config.network.spec() else {})}
    nodes += [NodeDescription("coordinator_node" if spec.algorithm == "admm_coordinator" else "agent_node",
                              "agent", f"/{spec.address}", {**spec.to_parameters(), **agent}) for spec in specs]
    nodes.append(NodeDescription("supervisor_node", "supervisor", "/", supervisor, required=True))
    return recorder(config) + nodes


def recorder(config: FleetConfig) -> list[NodeDescription]:
    """The `recorder_node` first (it records from the start), when the config has `record: FILE.mcap`;
    its parameters are the `recorder` section, the output file and the scenario (for `fleet report`)."""
    if not config.record:
        return []
    from dro_ros.fleet.recording import RecordingError, check_destination

    try:
        output = str(check_destination(config.record))
    except RecordingError as error:
        raise SpecError(f"record: {error}") from None
    scenario = json.dumps(config.planned_scenario) if isinstance(config, TrajectoryFleet) else ""
    return [NodeDescription("recorder_node", "recorder", "/",
                            {**config.recorder.parameters(), "output": output, "scenario": scenario})]


def _flat(section: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of ROS parameters; nested mappings become dotted names, as ROS parameter files have them."""
    flat: dict[str, Any] = {}
    for name, value in section.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{k}": v for k, v in _flat(value).items()})
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class GazeboRobot:
    """One robot for `gazebo.launch.py`: the model `sdf` spawned at `position` with yaw `heading` (a
    velocity-controlled disc, `robot_sdf`, or a diff-drive model, `gazebo_models.diff_drive_sdf`), its
    topics bridged by ros_gz_bridge with `bridges` (ros_gz's `topic@ros_type[gz_type` syntax: `[` gz ->
    ROS, `]` ROS -> gz)."""

    name: str
    position: tuple[float, float, float]
    bridges: tuple[str, ...]
    sdf: str = ""
    heading: float = 0.0


def gazebo_plan(config: FleetConfig | Mapping[str, Any]) -> tuple[list[NodeDescription], list[GazeboRobot]]:
    """A trajectory config in Gazebo: the same nodes without `fleet_sim_node` (Gazebo takes its place on
    `/<robot>/odom` and `/<robot>/cmd_vel`), and the robots to spawn and bridge."""
    config = typed(config)
    if not isinstance(config, TrajectoryFleet):
        raise SpecError("kind: gazebo.launch.py runs trajectory fleets (kind: trajectory)")
    problem = config.parsed_scenario.problem
    nodes = [n for n in node_list(config) if n.executable != "fleet_sim_node"]
    names = [n.namespace.strip("/") for n in nodes if n.executable == "agent_node"]
    if config.robot_parameters():
        return _diff_drive_gazebo(config, nodes, names)
    robots = []
    for i, robot in enumerate(names):
        xyz = [0.0, 0.0, 0.0]
        xyz[:problem.dim] = [float(v) for v in problem.initial[i, :problem.dim]]
        robots.append(GazeboRobot(robot, (xyz[0], xyz[1], xyz[2]),
                                  (f"/{robot}/odom@nav_msgs/msg/Odometry[gz.msgs.Odometry",
                                   f"/{robot}/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist"),
                                  robot_sdf(robot, problem.r_min / 2)))
    return nodes, robots


def _diff_drive_gazebo(config: TrajectoryFleet, nodes: list[NodeDescription],
                       names: list[str]) -> tuple[list[NodeDescription], list[GazeboRobot]]:
    """Diff-drive robots spawned with their axle centres behind the planned points at their start headings;
    DiffDrive's odometry starts at zero there, so each tracker gets that pose as its `odom_origin`, and the
    supervisor verifies on the bridged ground truth."""
    from dro_ros.fleet.diff_drive import axle_centre
    from dro_ros.ros.gazebo_models import diff_drive_sdf

    geometry, headings = config.robot.geometry(), config.start_headings()
    initial = config.parsed_scenario.problem.initial
    frame = config.simulator.frame_id or "world"
    robots, origins = [], {}
    for i, name in enumerate(names):
        x, y = (float(v) for v in axle_centre(initial[i, :2], headings[i], geometry.offset))
        origins[f"/{name}"] = [x, y, headings[i]]
        robots.append(GazeboRobot(name, (x, y, 0.0), (
            f"/{name}/odom@nav_msgs/msg/Odometry[gz.msgs.Odometry",
            f"/{name}/ground_truth@nav_msgs/msg/Odometry[gz.msgs.Odometry",
            f"/{name}/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist"), diff_drive_sdf(name, geometry, frame),
            headings[i]))
    nodes = [replace(n, parameters={**n.parameters, "odom_origin": origins[n.namespace]})
             if n.executable == "tracker_node" else n for n in nodes]
    return nodes, robots


def robot_sdf(name: str, radius: float) -> str:
    """A disc of `radius` (r_min / 2) that follows `/<name>/cmd_vel` in the world frame (gz-sim
    VelocityControl) and publishes `/<name>/odom` (OdometryPublisher, 50 Hz)."""
    from dro_ros.ros.gazebo_models import odometry_publisher

    return f"""<?xml version="1.0"?>
<sdf version="1.9">
  <model name="{name}">
    <link name="base_link">
      <inertial><mass>1.0</mass></inertial>
      <visual name="disc">
        <geometry><cylinder><radius>{radius}</radius><length>0.05</length></cylinder></geometry>
      </visual>
    </link>
    <plugin filename="gz-sim-velocity-control-system" name="gz::sim::systems::VelocityControl">
      <topic>/{name}/cmd_vel</topic>
    </plugin>
    {odometry_publisher(f"/{name}/odom", "world", f"{name}/base_link", 3)}
  </model>
</sdf>
"""
