"""The lifecycle `agent_node` driven from outside, as a lifecycle manager would, over DDS.

configure refuses bad parameters (naming the field) and succeeds once they are fixed through the
parameter service; activate makes it ready; start_plan starts a run, abort_plan stops it; a run whose
neighbour never appears ends `no_contact` after the discovery timeout, naming that neighbour, and counts
the envelopes of another fleet it refused meanwhile.
"""
import json
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from ros_client import process_and_client



@pytest.fixture
def agent():
    """robot_0's agent_node (no autostart; its neighbour robot_1 never runs) and a client node here."""
    import rclpy

    params = {"robot_id": "robot_0", "fleet": ["robot_0", "robot_1"], "neighbours": ["robot_1"],
              "algorithm": "gossip", "params": json.dumps({"initial": 1.0, "tol": 1e-6, "diameter_bound": 1}),
              "timeouts.discovery": 2.0, "autostart": False}
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "agent.yaml"
        file.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
        command = [sys.executable, "-m", "dro_ros.ros.nodes.agent_node", "--ros-args", "-r", "__ns:=/robot_0",
                   "--params-file", str(file)]
        with process_and_client(command, "lifecycle_manager") as (node, context):
            executor = rclpy.executors.SingleThreadedExecutor(context=context)
            executor.add_node(node)
            yield node, executor


def call(node, executor, kind, name, request, timeout=30.0):
    client = node.create_client(kind, name)
    assert client.wait_for_service(timeout_sec=timeout), f"{name} not discovered within {timeout} s"
    future = client.call_async(request)
    executor.spin_until_future_complete(future, timeout_sec=timeout)
    assert future.done(), f"{name}: no reply within {timeout} s"
    return future.result()


def transition(node, executor, transition_id):
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState

    request = ChangeState.Request(transition=Transition(id=transition_id))
    return call(node, executor, ChangeState, "/robot_0/agent/change_state", request).success


def test_lifecycle_configure_validates_and_runs_start_and_abort(agent):
    from diagnostic_msgs.msg import DiagnosticArray
    from lifecycle_msgs.msg import Transition
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters
    from std_srvs.srv import Trigger

    from dro_ros.srv import StartPlan

    node, executor = agent
    states = []
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: states.extend(
        {kv.key: kv.value for kv in s.values} | {"message": s.message} for s in m.status), 50)

    def wait_for(predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
            if any(predicate(s) for s in states):
                return True
        return False

    assert not transition(node, executor, Transition.TRANSITION_CONFIGURE)
    assert wait_for(lambda s: s["message"].startswith("algorithm: expected one of"))
    fixed = Parameter(name="algorithm", value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                             string_value="averaging"))
    call(node, executor, SetParameters, "/robot_0/agent/set_parameters", SetParameters.Request(parameters=[fixed]))
    assert transition(node, executor, Transition.TRANSITION_CONFIGURE)
    assert transition(node, executor, Transition.TRANSITION_ACTIVATE)
    assert wait_for(lambda s: s["state"] == "ready")

    from rclpy.duration import Duration

    stale = StartPlan.Request(run_id="r0", deadline=(node.get_clock().now() - Duration(seconds=8.0)).to_msg())
    refused = call(node, executor, StartPlan, "/robot_0/agent/start_plan", stale)   # e.g. queued while suspended
    assert not refused.accepted and refused.message.startswith("run r0: its deadline passed 8.")
    started = call(node, executor, StartPlan, "/robot_0/agent/start_plan", StartPlan.Request(
        run_id="r1", deadline=(node.get_clock().now() + Duration(seconds=60.0)).to_msg()))
    assert started.accepted, started.message
    again = call(node, executor, StartPlan, "/robot_0/agent/start_plan", StartPlan.Request(run_id="r2"))
    assert not again.accepted and again.message == "cannot start a run while planning"
    assert call(node, executor, Trigger, "/robot_0/agent/abort_plan", Trigger.Request()).success
    assert wait_for(lambda s: s["state"] == "aborted" and s.get("run_id") == "r1")

    # another fleet's envelopes during run r3 are refused and counted in the status
    from dro_ros.msg import Envelope
    from dro_ros.ros.carrier import INBOX_QOS, inbox_topic

    foreign = node.create_publisher(Envelope, inbox_topic("robot_0"), INBOX_QOS)
    node.create_timer(0.05, lambda: foreign.publish(Envelope(sender="robot_1", receiver="robot_0", problem_id="r3",
                                                             type="dro/Hello", fleet="other_fleet")))
    assert call(node, executor, StartPlan, "/robot_0/agent/start_plan", StartPlan.Request(run_id="r3")).accepted
    assert wait_for(lambda s: s["state"] == "failed" and s.get("run_id") == "r3", timeout=30.0)
    final = next(s for s in states if s["state"] == "failed" and s.get("run_id") == "r3")
    assert final["status"] == "no_contact" and final["waiting_for"] == "robot_1"
    assert json.loads(final["rejected"])["foreign_fleet"] > 0


@pytest.mark.parametrize("robots, message", [
    (["robot_0", "robot_9"], r"scenario\.robots: expected distinct robots of the fleet"),
    (["robot_0", "robot_0"], r"scenario\.robots: expected distinct robots of the fleet"),
    (["robot_1", "robot_2"], r"scenario\.robots: .* does not include this robot \(robot_0\)"),
])
def test_a_window_plans_the_robots_it_names_and_a_bad_list_is_refused_naming_the_key(robots, message):
    from dro_ros.ros.nodes.agent_node import _window_fleet
    from dro_ros.spec import SpecError

    fleet = ["robot_0", "robot_1", "robot_2"]
    assert _window_fleet({"robots": ["robot_2", "robot_0"]}, fleet, "robot_0") == ["robot_2", "robot_0"]
    assert _window_fleet({}, fleet, "robot_0") == fleet
    with pytest.raises(SpecError, match=message):
        _window_fleet({"robots": robots}, fleet, "robot_0")
