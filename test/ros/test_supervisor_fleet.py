"""The supervisor's `RosFleet` on a node of this process: what its wait for a ready fleet does with agents
that are still planning."""
import pytest

from dro_ros.ros.processes import isolated_ros_env
from dro_ros.spec import AgentState, AgentStatus


def agent_status(robot: str, status: AgentStatus):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    values = [KeyValue(key=k, value=v) for k, v in status.to_values().items()]
    return DiagnosticArray(status=[DiagnosticStatus(name=f"dro_ros/{robot}/agent", hardware_id=robot, values=values)])


def test_the_ready_wait_aborts_a_run_nobody_started_and_waits_for_its_own(monkeypatch):
    """A goal can arrive while the start-up wait still runs: the mission's first window must not be taken for
    an orphan of an earlier supervisor and aborted (a chaos run failed so before it had started)."""
    import rclpy
    from rclpy.context import Context

    from dro_ros.ros.nodes.supervisor_node import RosFleet

    monkeypatch.setenv("ROS_DOMAIN_ID", isolated_ros_env()["ROS_DOMAIN_ID"])
    context = Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("supervisor_under_test", context=context)
        fleet = RosFleet(node, ["robot_0", "robot_1"], 2, stale_after=5.0)
        statuses, reason = fleet.run_agents("mission_1/w1", "{}", "path_sweep", 0.2, robots=["robot_0"])
        assert reason == "robot_0: start_plan service not available"   # nobody serves it here
        fleet._on_diagnostics(agent_status("robot_0", AgentStatus(AgentState.PLANNING, run_id="mission_1/w1")))
        fleet._on_diagnostics(agent_status("robot_1", AgentStatus(AgentState.PLANNING, run_id="before/w9")))
        aborted = []
        monkeypatch.setattr(fleet, "abort", aborted.append)
        reason = fleet.wait_ready(0.3)
        assert aborted == [["robot_1"]]
        assert reason.startswith("not ready within 0.3 s") and "robot_0 (planning)" in reason
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_a_window_starts_on_the_robots_that_serve_before_waiting_for_one_that_does_not(monkeypatch):
    """robot_0's agent is gone, robot_1's serves: robot_1's start is sent first, not after the 0.5 s wait for
    robot_0's service (every window of a dropout started that much later on the robots behind it)."""
    import threading

    import rclpy
    from rclpy.context import Context
    from rclpy.duration import Duration
    from rclpy.executors import SingleThreadedExecutor

    from dro_ros.ros.nodes.supervisor_node import RosFleet
    from dro_ros.srv import StartPlan

    monkeypatch.setenv("ROS_DOMAIN_ID", isolated_ros_env()["ROS_DOMAIN_ID"])
    context = Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    try:
        agent = rclpy.create_node("agent", namespace="/robot_1", context=context)
        def accept(request, response):
            response.accepted = True
            return response

        agent.create_service(StartPlan, "agent/start_plan", accept)
        executor.add_node(agent)
        threading.Thread(target=executor.spin, daemon=True).start()
        node = rclpy.create_node("supervisor_under_test", context=context)
        fleet = RosFleet(node, ["robot_0", "robot_1"], 2, stale_after=5.0)
        executor.add_node(node)
        assert fleet.start_clients["robot_1"].wait_for_service(timeout_sec=20.0)
        events = []
        for robot, client in fleet.start_clients.items():
            monkeypatch.setattr(client, "call_async", lambda request, robot=robot, call=client.call_async: (
                events.append(("sent", robot)), call(request))[1])
            monkeypatch.setattr(client, "wait_for_service", lambda timeout_sec, robot=robot, wait=client.wait_for_service: (
                events.append(("waited", robot)), wait(timeout_sec=timeout_sec))[1])
        refused = fleet._start_everywhere("mission_1/w1", "{}", "path_sweep", ["robot_0", "robot_1"], 1.0,
                                          node.get_clock().now() + Duration(seconds=1.0))
        assert events == [("sent", "robot_1"), ("waited", "robot_0")]
        assert refused == {"robot_0": "service not available"}
        node.destroy_node()
        agent.destroy_node()
    finally:
        executor.shutdown()
        rclpy.shutdown(context=context)
