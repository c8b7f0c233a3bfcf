"""Fleet config -> the nodes to start. Pure Python (no launch, no rclpy), tested directly.

The launch files map each `NodeDescription` to `launch_ros.actions.Node`; `dro-ros fleet up` starts the
same list as OS processes. Two kinds of config (every field is documented in `config/*.yaml`):

- **trajectory** (has `scenario`): one `agent_node` and one `tracker_node` per robot in `/<robot>`, the
  `fleet_sim_node` and the `supervisor_node`. The scenario (a file relative to the config, or a mapping)
  gives the problem, the communication graph and the robots `robot_0..robot_{N-1}`.
- **agents** (has `topology`): one `agent_node` per robot running `algorithm` with the shared `params`
  plus its own entry of `agents` (a list of mappings; `initial: [...]` is short for `agents[i].initial`),
  and the `supervisor_node`, which starts the run and prints each robot's result.
- **coordinated** (has `coordinator`): ADMM with a `coordinator_node` in `/coordinator` (its parameters
  are `coordinator`) and one `agent_node` per robot (`algorithm`, e.g. flex), in a star.

`scheduler` instead of either starts the `scheduler_node` with its parameters. `record: FILE.mcap` adds a
`recorder_node` (parameters `recorder`) before the others.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dro_ros.core.topology import Topology, complete, ring, small_world
from dro_ros.spec import AgentSpec, SpecError
from dro_ros.spec.registry import trajectory_algorithms

@dataclass(frozen=True)
class NodeDescription:
    """One node: `executable` of package dro_ros, its name, namespace and ROS parameters (flat names).
    The run ends when a `required` node exits."""

    executable: str
    name: str
    namespace: str
    parameters: dict[str, Any] = field(default_factory=dict)
    required: bool = False


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a fleet config; a `scenario` given as a file name (relative to the config) is read in place."""
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
    and its own `params`; the shape `AgentSpec.from_dict` and `agent_once --spec` take."""
    return [{"address": name, "neighbours": [names[j] for j in topology.neighbours[i]], "fleet": list(names),
             "problem_id": problem_id, "algorithm": algorithm, "params": params[i], "timeouts": dict(timeouts)}
            for i, name in enumerate(names)]


def agent_specs(config: dict[str, Any]) -> list[AgentSpec]:
    """One validated `AgentSpec` per robot of the config (either kind)."""
    if "scenario" in config:
        return _trajectory_specs(config)
    if "coordinator" in config:
        return _coordinated_specs(config)
    topology = topology_from(config)
    names = config.get("names") or [f"robot_{i}" for i in range(topology.n)]
    if len(names) != topology.n:
        raise SpecError(f"names: {len(names)} names for {topology.n} agents")
    own = config.get("agents")
    if own is None and "initial" in config:
        own = [{"initial": value} for value in _list_of(config, "initial", topology.n)]
    own = _list_of(config, "agents", topology.n) if own is None else own
    params = []
    for i, entry in enumerate(own):
        if not isinstance(entry, dict):
            raise SpecError(f"agents[{i}]: expected a mapping of parameters")
        params.append({**config.get("params", {}), **entry})
        if "tol" in params[-1]:
            params[-1].setdefault("diameter_bound", topology.diameter())
    return [AgentSpec.from_dict(spec) for spec in fleet_specs(
        topology, names, config.get("algorithm", "averaging"), params, config.get("problem_id", "run"),
        config.get("timeouts", {}))]


def _trajectory_specs(config: dict[str, Any]) -> list[AgentSpec]:
    from dro_ros.trajectory.outcome import agent_names
    from dro_ros.trajectory.problem import ProblemError
    from dro_ros.trajectory.scenarios import scenario_from_config

    algorithm = config.get("algorithm", "path_sweep")
    if algorithm not in trajectory_algorithms():
        raise SpecError(f"algorithm: a trajectory fleet runs one of {trajectory_algorithms()}, got {algorithm!r}")
    try:
        scenario = scenario_from_config(config["scenario"])
    except (ProblemError, KeyError, TypeError, ValueError) as error:
        raise SpecError(f"scenario: {error}") from None
    names = agent_names(scenario.problem.n_agents)
    params = [{"scenario": config["scenario"], "index": i, "names": names, **config.get("params", {})}
              for i in range(len(names))]
    return [AgentSpec.from_dict(spec) for spec in fleet_specs(
        scenario.graph, names, algorithm, params, config.get("problem_id", "fleet"), config.get("timeouts", {}))]


def _coordinated_specs(config: dict[str, Any]) -> list[AgentSpec]:
    """A star: the coordinator (address `coordinator`, algorithm `admm_coordinator`, parameters
    `coordinator`) and the robots, each with its own `agents` entry, talking only to it."""
    own = config.get("agents")
    if not isinstance(own, list) or not own:
        raise SpecError("agents: expected a non-empty list, one mapping of parameters per robot")
    names = [f"robot_{i}" for i in range(len(own))]
    star = Topology.from_edges(len(names) + 1, [(0, k) for k in range(1, len(names) + 1)])
    params = [config["coordinator"]] + [{**config.get("params", {}), **entry} for entry in own]
    specs = fleet_specs(star, ["coordinator"] + names, config.get("algorithm", "flex"), params,
                        config.get("problem_id", "run"), config.get("timeouts", {}))
    specs[0]["algorithm"] = "admm_coordinator"
    return [AgentSpec.from_dict(spec) for spec in specs]


def _list_of(config: dict[str, Any], key: str, n: int) -> list:
    value = config.get(key)
    if not isinstance(value, list) or len(value) != n:
        raise SpecError(f"{key}: expected a list of {n} entries, one per robot")
    return value


def node_list(config: dict[str, Any], *, serve: bool = False) -> list[NodeDescription]:
    """Every node the config asks for, in start order (simulator and trackers before the agents).

    `serve` (trajectory fleets): the robots start at rest at the config's initial positions, and the
    supervisor serves missions on `/fleet/mission` instead of flying the config's own problem once."""
    if "scheduler" in config:
        return [NodeDescription("scheduler_node", "scheduler", "/", _section(config, "scheduler"))]
    specs = agent_specs(config)
    robots = [spec.address for spec in specs]
    nodes = []
    supervisor = {"robots": robots, "problem_id": specs[0].problem_id, **_section(config, "supervisor")}
    if "scenario" in config:
        from dro_ros.trajectory.scenarios import scenario_from_config

        problem = scenario_from_config(config["scenario"]).problem
        initial = problem.initial.copy()
        if serve:
            initial[:, problem.dim:] = 0.0  # at rest, waiting for missions
        simulator = {"robots": robots, "dim": problem.dim, "initial": [float(v) for v in initial.ravel()],
                     "running": serve, **_section(config, "simulator")}
        nodes.append(NodeDescription("fleet_sim_node", "fleet_sim", "/", simulator))
        nodes += [NodeDescription("tracker_node", "tracker", f"/{robot}", {"robot_id": robot,
                                                                         **_section(config, "tracker")})
                  for robot in robots]
        supervisor.update(scenario=json.dumps(config["scenario"]), algorithm=specs[0].algorithm, serve=serve)
    agent = {"autostart": True, "plan_on_activate": False, **_section(config, "agent")}
    nodes += [NodeDescription("coordinator_node" if spec.algorithm == "admm_coordinator" else "agent_node",
                              "agent", f"/{spec.address}", {**spec.to_parameters(), **agent}) for spec in specs]
    nodes.append(NodeDescription("supervisor_node", "supervisor", "/", supervisor, required=True))
    return recorder(config) + nodes


def recorder(config: dict[str, Any]) -> list[NodeDescription]:
    """The `recorder_node` first (it records from the start), when the config has `record: FILE.mcap`;
    its parameters are the `recorder` section, the output file and the scenario (for `fleet report`)."""
    if not config.get("record"):
        return []
    from dro_ros.fleet.recording import RecordingError, check_destination

    try:
        output = str(check_destination(config["record"]))
    except RecordingError as error:
        raise SpecError(f"record: {error}") from None
    scenario = json.dumps(config["scenario"]) if "scenario" in config else ""
    return [NodeDescription("recorder_node", "recorder", "/",
                            {**_section(config, "recorder"), "output": output, "scenario": scenario})]


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    """A mapping of ROS parameters; nested mappings become dotted names, as ROS parameter files have them."""
    section = config.get(key) or {}
    if not isinstance(section, dict):
        raise SpecError(f"{key}: expected a mapping of parameters")
    flat: dict[str, Any] = {}
    for name, value in section.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{k}": v for k, v in _section(section, name).items()})
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class GazeboRobot:
    """One robot for `gazebo.launch.py`: spawned at `position` with a velocity-controlled disc model
    (`robot_sdf`), its topics bridged by ros_gz_bridge with `bridges` (ros_gz's `topic@ros_type[gz_type`
    syntax: `[` gz -> ROS, `]` ROS -> gz)."""

    name: str
    position: tuple[float, float, float]
    bridges: tuple[str, ...]


def gazebo_plan(config: dict[str, Any]) -> tuple[list[NodeDescription], list[GazeboRobot]]:
    """A trajectory config in Gazebo: the same nodes without `fleet_sim_node` (Gazebo takes its place on
    `/<robot>/odom` and `/<robot>/cmd_vel`), and the robots to spawn and bridge."""
    if "scenario" not in config:
        raise SpecError("scenario: gazebo.launch.py runs trajectory fleets (a config with a scenario)")
    from dro_ros.trajectory.scenarios import scenario_from_config

    problem = scenario_from_config(config["scenario"]).problem
    nodes = [n for n in node_list(config) if n.executable != "fleet_sim_node"]
    robots = []
    for i, robot in enumerate(n.namespace.strip("/") for n in nodes if n.executable == "agent_node"):
        xyz = [0.0, 0.0, 0.0]
        xyz[:problem.dim] = [float(v) for v in problem.initial[i, :problem.dim]]
        robots.append(GazeboRobot(robot, (xyz[0], xyz[1], xyz[2]),
                                  (f"/{robot}/odom@nav_msgs/msg/Odometry[gz.msgs.Odometry",
                                   f"/{robot}/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist")))
    return nodes, robots


def robot_sdf(name: str, radius: float) -> str:
    """A disc of `radius` (r_min / 2) that follows `/<name>/cmd_vel` in the world frame (gz-sim
    VelocityControl) and publishes `/<name>/odom` (OdometryPublisher, 50 Hz)."""
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
    <plugin filename="gz-sim-odometry-publisher-system" name="gz::sim::systems::OdometryPublisher">
      <odom_topic>/{name}/odom</odom_topic>
      <odom_frame>world</odom_frame>
      <robot_base_frame>{name}/base_link</robot_base_frame>
      <odom_publish_frequency>50</odom_publish_frequency>
      <dimensions>3</dimensions>
    </plugin>
  </model>
</sdf>
"""
