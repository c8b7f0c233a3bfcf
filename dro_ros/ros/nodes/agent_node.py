"""`agent_node`: one robot's agent as a managed (lifecycle) ROS 2 node, in namespace `/<robot>`.

Parameters (a fleet config gives them through `dro_ros.ros.launch_plan`; see `AgentSpec.to_parameters`):
`robot_id`, `fleet`, `neighbours`, `algorithm`, `params` (JSON text: the algorithm's parameters, e.g. the
trajectory scenario), `problem_id`, `timeouts.discovery|stall|wall` (s), `limits.inbox|backlog` (messages, `core.carrier.Limits`),
`network` (JSON text: simulated link faults, `core.simple.NetworkModel.from_config`; outages timed from the
process's start), and
- `autostart` (true): configure and activate on start-up, as nav2's lifecycle manager would;
- `plan_on_activate` (false): start run `<problem_id>/0` on activation, without a supervisor;
- `heartbeat` (1.0 s): period of the status on `/diagnostics`; `frame_id` (world);
- `fleet_name` (default: `problem_id`) and `key_file` (""): the fleet's membership (`dro_ros.core.auth`;
  `DRO_ROS_FLEET_KEY` / `DRO_ROS_FLEET_KEY_FILE` in the environment take precedence over `key_file`).

Lifecycle: *configure* validates the parameters and builds the agent once (an error names the field and
the transition fails); *activate* joins the fleet; *deactivate* aborts a run in progress.

Services: `agent/start_plan` (dro_ros/srv/StartPlan) starts a planning run (a mission's request carries
its own scenario, planned from live state, and the agent's neighbours follow that scenario's communication
graph; a scenario with a `robots` key, a receding-horizon window, plans those robots only, in that order;
the mission's solvers are built off the event loop; a start received after its `deadline`, the run's end,
is refused: an agent suspended and resumed finds the starts sent meanwhile in its queue), `agent/abort_plan`
(std_srvs/Trigger) stops it. Every run gets a fresh agent and carrier; messages of other runs are dropped,
so a restarted node rejoins at the next run.

Topics out: `plan` (dro_ros/msg/TrajectoryPlan), `path` (nav_msgs/Path) and `markers`
(visualization_msgs/MarkerArray), all latched; `/diagnostics` (one DiagnosticStatus `dro_ros/<robot>/agent`:
state, run, outcome, traffic, refused and shed messages, critical path, error). The agent reads no
odometry: a mission's window carries the robots' states (a subscription at the odometry's rate cost each
agent process a callback per sample for a position it only reported).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Path
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.time import Time
from std_msgs.msg import Header, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from dro_ros.core.auth import FleetKeyError, Membership
from dro_ros.core.carrier import Limits
from dro_ros.core.report import RunReport, to_jsonable
from dro_ros.fleet.plan import Plan, rolled_out_plan
from dro_ros.msg import TrajectoryPlan
from dro_ros.core.simple import NetworkModel, Outage
from dro_ros.mission.receding import RecedingError
from dro_ros.ros.carrier import PROCESS_START, Links, RosCarrier
from dro_ros.ros.disturbances import DISTURBANCES_TOPIC, Announcement
from dro_ros.ros.conversions import plan_to_msg
from dro_ros.ros.qos import LATCHED
from dro_ros.ros.runtime import EXIT_ALARM_SECONDS, SHUTDOWN_SECONDS, Spinner, Timeouts, run_carriers, shut_down
from dro_ros.spec import AgentSpec, AgentState, AgentStatus, SpecError
from dro_ros.ros.visuals import agent_markers, path_msg
from dro_ros.srv import StartPlan
from dro_ros.trajectory.outcome import AgentOutcome
from dro_ros.trajectory.problem import ProblemError
from dro_ros.trajectory.scenarios import scenario_from_config

SPEC_PARAMETERS = ("robot_id", "fleet", "neighbours", "algorithm", "params", "problem_id",
                   "timeouts.discovery", "timeouts.stall", "timeouts.wall", "limits.inbox", "limits.backlog", "network")
LEVEL = {AgentState.READY: DiagnosticStatus.OK, AgentState.PLANNING: DiagnosticStatus.OK,
         AgentState.DONE: DiagnosticStatus.OK, AgentState.UNCONFIGURED: DiagnosticStatus.WARN,
         AgentState.INACTIVE: DiagnosticStatus.WARN, AgentState.ABORTED: DiagnosticStatus.WARN,
         AgentState.FAILED: DiagnosticStatus.ERROR}


def plan_from_outcome(agent: Any, outcome: AgentOutcome, robot: str, run_id: str) -> Plan:
    """A trajectory agent's own inputs, rolled out from its initial state (eq. 5.5-5.6)."""
    return rolled_out_plan(agent.problem, outcome.agent, outcome.inputs, robot, run_id)


class AgentNode(LifecycleNode):
    def __init__(self, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> None:
        super().__init__("agent", **kwargs)
        self.loop = loop
        for name in SPEC_PARAMETERS:  # validated together by AgentSpec in on_configure
            self.declare_parameter(name, None, ParameterDescriptor(dynamic_typing=True))
        self.declare_parameter("autostart", True)
        self.declare_parameter("plan_on_activate", False)
        self.declare_parameter("heartbeat", 1.0)
        self.declare_parameter("frame_id", "world")
        self.declare_parameter("fleet_name", "")
        self.declare_parameter("key_file", "")
        self.spec: AgentSpec | None = None
        self.membership: Membership | None = None
        self.run_spec: AgentSpec | None = None  # the spec of the current (or last) run: the config's or a mission's
        self.fresh_agent: Any = None  # built by configure, used by the first run
        self.status = AgentStatus(AgentState.UNCONFIGURED)
        self.runs = 0
        self.run: Future | None = None
        self.carrier: RosCarrier | None = None  # the current (or last) run's
        self.links: Links | None = None  # the inbox and publishers every run uses (carrier.py)
        self.create_service(StartPlan, "agent/start_plan", self._on_start_plan)
        self.create_service(Trigger, "agent/abort_plan", self._on_abort_plan)
        self.outages: tuple[Outage, ...] = ()   # the current mission's link outages of this robot
        self.create_subscription(String, DISTURBANCES_TOPIC, self._on_disturbances, LATCHED)
        self.diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.plans = self.create_publisher(TrajectoryPlan, "plan", LATCHED)
        self.paths = self.create_publisher(Path, "path", LATCHED)
        self.markers = self.create_publisher(MarkerArray, "markers", LATCHED)
        self.create_timer(self.get_parameter("heartbeat").value, self._publish_status)

    # --- lifecycle --------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        values = {name: self.get_parameter(name).value for name in SPEC_PARAMETERS}
        values["robot_id"] = values["robot_id"] or self.get_namespace().strip("/")
        try:
            spec = AgentSpec.from_parameters(values)
            self.fresh_agent = spec.build_agent()  # validates the algorithm's parameters before joining
            self.membership = Membership.load(self.get_parameter("fleet_name").value or spec.problem_id,
                                              self.get_parameter("key_file").value or None)
        except (SpecError, FleetKeyError) as error:
            self.get_logger().error(f"invalid parameters: {error}")
            self._set_state(AgentState.UNCONFIGURED, error=str(error))
            return TransitionCallbackReturn.FAILURE
        self.spec = spec
        if self.links is None:   # discovered now, before the first run
            self.links = Links(self, spec.address, self.membership, spec.fleet)
            for member in spec.fleet:
                if member != spec.address:
                    self.links.publisher(member)
        self._set_state(AgentState.INACTIVE)
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._set_state(AgentState.READY)
        if self.get_parameter("plan_on_activate").value:
            self.start(f"{self.spec.problem_id}/0")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.abort()
        self._set_state(AgentState.INACTIVE)
        return super().on_deactivate(state)

    # --- planning runs ----------------------------------------------------------------------------
    def start(self, run_id: str, scenario: str = "", algorithm: str = "") -> tuple[bool, str]:
        """Start a planning run; a mission gives its own `scenario` (JSON, planned from live state) and
        `algorithm`, else the configured ones are used."""
        if self.run is not None and not self.run.done():   # planning, whether or not its state says so yet
            return False, f"cannot start a run while {AgentState.PLANNING.value}"
        state = self.status.state
        if state is not AgentState.READY and not state.final:
            return False, f"cannot start a run while {state.value}"
        try:
            spec = self._mission_spec(scenario, algorithm)
        except SpecError as error:
            return False, str(error)
        run_id = run_id or f"{self.spec.problem_id}/{self.runs}"
        self.runs += 1
        self.run = asyncio.run_coroutine_threadsafe(self._plan(run_id, spec), self.loop)
        return True, f"run {run_id} started"

    def _mission_spec(self, scenario: str, algorithm: str) -> AgentSpec | None:
        """The spec of a mission's run, or None for the configured one (whose agent is built already)."""
        if not scenario and not algorithm:
            return None
        params = dict(self.spec.params)
        if scenario:
            if "scenario" not in params:
                raise SpecError(f"scenario: algorithm {self.spec.algorithm} takes no trajectory scenario")
            try:
                params["scenario"] = json.loads(scenario)
            except json.JSONDecodeError as error:
                raise SpecError(f"scenario: expected JSON text ({error})") from None
            fleet = _window_fleet(params["scenario"], self.spec.fleet, self.spec.address)
            if "names" in params:   # the trajectory factory's own index among the window's robots
                params.update(names=fleet, index=fleet.index(self.spec.address))
        values = {**self.spec.to_parameters(), "params": json.dumps(params)}
        if algorithm:
            values["algorithm"] = algorithm
        if scenario:  # the mission's communication graph, from the robots' current positions
            try:
                graph = scenario_from_config(params["scenario"]).graph
            except (ProblemError, ValueError) as error:
                raise SpecError(f"scenario: {error}") from None
            me = fleet.index(self.spec.address)
            values.update(fleet=fleet, neighbours=[fleet[j] for j in graph.neighbours[me]])
        return AgentSpec.from_parameters(values)

    def abort(self) -> bool:
        if self.run is None or self.run.done():
            return False
        self.loop.call_soon_threadsafe(self.run.cancel)
        return True

    async def _plan(self, run_id: str, mission: AgentSpec | None = None) -> None:
        """The run; aborted (cancelled) at any await, it ends ABORTED, ready for the next run."""
        try:
            await self._plan_run(run_id, mission)
        except asyncio.CancelledError:
            self._set_state(AgentState.ABORTED, run_id=run_id)
            raise

    async def _plan_run(self, run_id: str, mission: AgentSpec | None) -> None:
        spec = self.run_spec = mission or self.spec
        self._set_state(AgentState.PLANNING, run_id=run_id)
        self.get_logger().info(f"run {run_id} started")
        started = time.monotonic()
        if mission is not None:  # a mission's problem: its solvers are built off the event loop
            try:
                agent = await self.loop.run_in_executor(None, mission.build_agent)
            except SpecError as error:
                self.get_logger().error(f"run {run_id}: {error}")
                self._set_state(AgentState.FAILED, run_id=run_id, error=str(error))
                return
        else:
            agent, self.fresh_agent = self.fresh_agent or spec.build_agent(), None
        built = time.monotonic() - started
        carrier = RosCarrier(self, agent, spec.address, spec.neighbours, spec.fleet, run_id, self.loop,
                             membership=self.membership, limits=Limits(**spec.limits), network=self._network(spec),
                             links=self.links)
        self.carrier = carrier
        try:
            report = await run_carriers([carrier], Timeouts(**spec.timeouts), acknowledged=False)   # links stay
        except Exception as error:  # reported on /diagnostics, never swallowed
            self.get_logger().error(f"run {run_id} raised: {error!r}")
            self._set_state(AgentState.FAILED, run_id=run_id, error=repr(error))
            return
        finally:
            carrier.close()
        self._finish(agent, report, run_id, time.monotonic() - started, built)

    def _finish(self, agent: Any, report: RunReport, run_id: str, seconds: float, built: float) -> None:
        address = self.spec.address
        result = report.results.get(address)
        traffic = report.traffic[address]
        outcome = {"run_id": run_id, "status": report.status.value, "planning_time": seconds,
                   "messages": traffic.sent, "bytes": traffic.bytes_sent,
                   "rejected": traffic.rejected_by or None, "shed": traffic.shed or None,
                   "waiting_for": tuple(report.unfinished.get(address, [])),
                   "error": report.failures.get(address) or None}
        if isinstance(result, AgentOutcome):
            outcome.update(critical_path=result.critical_path, compute=result.compute, solves=result.solves)
            if result.failure:
                outcome["error"] = result.failure
            if result.inputs is not None and report.ok:
                plan = plan_from_outcome(agent, result, address, run_id)
                self._publish_plan(plan, agent.problem)
                outcome["cost"] = plan.cost
        elif result is not None:
            outcome["result"] = to_jsonable(result)
        if traffic.dropped:
            self.get_logger().warning(f"run {run_id}: {traffic.dropped} messages lost to simulated link faults")
        ok = report.ok and not (isinstance(result, AgentOutcome) and result.failure)  # a failed local solve too
        state = AgentState.DONE if ok else AgentState.FAILED
        if ok:
            self.get_logger().info(f"run {run_id} done in {seconds:.2f} s (agent built in {built:.2f} s, "
                                   f"neighbours heard after {report.contact_time:.2f} s, "
                                   f"critical path {outcome.get('critical_path', 0.0):.3f} s, "
                                   f"its own solves {outcome.get('compute', 0.0):.3f} s)")
        else:
            self.get_logger().error(f"run {run_id}: {report.status.value}"
                                    + (f", waiting for {','.join(outcome['waiting_for'])}" if outcome["waiting_for"] else "")
                                    + (f": {outcome['error']}" if outcome["error"] else ""))
        self._set_state(state, **outcome)

    def _publish_plan(self, plan: Plan, problem: Any) -> None:
        stamp = self.get_clock().now().to_msg()
        frame = self.get_parameter("frame_id").value
        self.plans.publish(plan_to_msg(plan, stamp, frame))
        self.paths.publish(path_msg(plan, stamp, frame))
        spec = self.run_spec
        me = spec.fleet.index(spec.address)
        links = [problem.initial[spec.fleet.index(n), :problem.dim] for n in spec.neighbours]
        self.markers.publish(agent_markers(plan, stamp, frame, links, problem.r_min, problem.initial[me, :problem.dim],
                                           problem.obstacles))

    # --- status -----------------------------------------------------------------------------------
    def _set_state(self, state: AgentState, **values: Any) -> None:
        """A new run starts a fresh status; otherwise the run's figures are kept and `values` update them."""
        base = AgentStatus(state) if state is AgentState.PLANNING else replace(self.status, state=state)
        self.status = replace(base, **values)
        self._publish_status()

    def _publish_status(self) -> None:
        robot = self.spec.address if self.spec else self.get_namespace().strip("/")
        status = self.status
        if status.state is AgentState.PLANNING and self.carrier is not None:  # live counts during a run
            rejected, shed = self.carrier.refusals()
            status = replace(status, rejected=rejected or None, shed=shed or None)
        message = status.error or status.state.value + (f" ({status.run_id})" if status.run_id else "")
        status = DiagnosticStatus(level=LEVEL[status.state], name=f"dro_ros/{robot}/agent", message=message,
                                  hardware_id=robot,
                                  values=[KeyValue(key=k, value=v) for k, v in status.to_values().items()])
        self.diagnostics.publish(DiagnosticArray(header=_header(self), status=[status]))

    # --- callbacks --------------------------------------------------------------------------------
    def _on_start_plan(self, request: StartPlan.Request, response: StartPlan.Response) -> StartPlan.Response:
        deadline = Time.from_msg(request.deadline).nanoseconds
        late = (self.get_clock().now().nanoseconds - deadline) * 1e-9
        if deadline and late > 0:   # held in a queue past its run's end: the supervisor gave the run up
            response.accepted = False
            response.message = f"run {request.run_id}: its deadline passed {late:.1f} s ago"
            self.get_logger().warning(f"refused the start of {response.message}")
            return response
        response.accepted, response.message = self.start(request.run_id, request.scenario, request.algorithm)
        return response

    def _on_abort_plan(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success = self.abort()
        response.message = "aborting" if response.success else "no run in progress"
        return response

    def _network(self, spec: AgentSpec) -> NetworkModel:
        """The run's link faults: the config's `network`, with the current mission's outages of this robot."""
        model = spec.network_model
        return replace(model, outages=model.outages + self.outages) if self.outages else model

    def _on_disturbances(self, message: String) -> None:
        """A receding-horizon mission's script (`ros.disturbances`): keep this robot's link outages, timed
        from this process's start like the config's."""
        if self.spec is None:
            return None
        dim = int((self.spec.params.get("scenario") or {}).get("dim", 2))
        try:
            announced = Announcement.from_json(message.data, dim)
        except RecedingError as error:   # from the network: named and dropped
            return self.get_logger().error(f"{DISTURBANCES_TOPIC}: ignored: {error}")
        origin = time.time() - (time.monotonic() - PROCESS_START)
        self.outages = announced.outages_of(self.spec.address, origin)
        for outage in self.outages:
            self.get_logger().info(f"mission {announced.mission_id}: links cut {outage.start:.1f}-"
                                   f"{outage.start + outage.duration:.1f} s after this process started")
        return None


def _window_fleet(scenario: dict[str, Any], fleet: list[str], me: str) -> list[str]:
    """The robots a mission's scenario plans, in its agent order: its `robots` key (a receding-horizon
    window covers one connected part of the fleet), else the whole fleet."""
    robots = scenario.get("robots")
    if robots is None:
        return list(fleet)
    if not isinstance(robots, list) or len(set(robots)) != len(robots) or not set(robots) <= set(fleet):
        raise SpecError(f"scenario.robots: expected distinct robots of the fleet {fleet}, got {robots!r}")
    if me not in robots:
        raise SpecError(f"scenario.robots: {robots} does not include this robot ({me})")
    return list(robots)


def _header(node: AgentNode) -> Header:
    return Header(stamp=node.get_clock().now().to_msg())


async def _serve(argv: list[str] | None) -> int:
    """Spin the node until SIGINT or SIGTERM, then shut it down from this thread (`Spinner.shutdown`)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    spinner = Spinner(argv, signals=False)
    node = spinner.add(AgentNode(loop, context=spinner.context))
    spinner.start()
    if node.get_parameter("autostart").value:
        node.trigger_configure()
        if node.spec is None:
            spinner.shutdown()
            return 2
        node.trigger_activate()
    try:
        await stop.wait()
    finally:
        signal.alarm(EXIT_ALARM_SECONDS)   # the teardown may block holding the GIL (`ros.runtime`)
        await shut_down(spinner, SHUTDOWN_SECONDS)
    return 0


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM; then leave without interpreter finalization, which would wait for a
    solve still running in a worker thread or a DDS teardown left behind (`ros.runtime.shut_down`)."""
    try:
        code = asyncio.new_event_loop().run_until_complete(_serve(argv))   # not asyncio.run: it joins the workers
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv)
