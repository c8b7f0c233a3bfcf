"""The fleet's Fast DDS profile (`ros.processes.FAST_DDS_PROFILE`) as Fast DDS reads it, in a child process.

A service server holds a response for a client whose response reader it has not matched for up to its
response writer's `max_blocking_time`, then drops it. The profile raises that wait to 2 s for every service
(rmw_fastrtps's "service" profile), so a goal sent at start-up is not lost (chaos run 1). Here the client's
response reader can never match (it asks for transient-local samples from a volatile writer), so the
server waits the whole time: at least 1.5 s under the profile, 0.1 s without it.
"""
import json
import subprocess
import sys

import pytest

pytest.importorskip("rclpy")

from dro_ros.ros.processes import isolated_ros_env, with_dds_profile  # noqa: E402

PROBE = """
import json, time
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile
from rclpy.service import Service
from std_srvs.srv import Trigger

blocked = []
send = Service.send_response

def timed(self, response, header):
    start = time.monotonic()
    send(self, response, header)
    blocked.append(time.monotonic() - start)

Service.send_response = timed
rclpy.init()
server, client_node = rclpy.create_node("probe_server"), rclpy.create_node("probe_client")
server.create_service(Trigger, "/probe", lambda request, response: response)
client = client_node.create_client(Trigger, "/probe",
                                   qos_profile=QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL))
executor = SingleThreadedExecutor()
executor.add_node(server)
executor.add_node(client_node)
deadline = time.monotonic() + 2.0   # discovery: the request writer matches, the response reader never does
while time.monotonic() < deadline:
    executor.spin_once(timeout_sec=0.05)
client.call_async(Trigger.Request())
deadline = time.monotonic() + 20.0
while not blocked and time.monotonic() < deadline:
    executor.spin_once(timeout_sec=0.05)
print(json.dumps({"blocked": blocked}))
"""


def blocked_seconds(env) -> list[float]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])["blocked"]


def test_a_fleet_service_waits_two_seconds_for_its_clients_reader_before_dropping_the_response(tmp_path):
    env = isolated_ros_env()
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    plain = blocked_seconds(env)
    fleet = blocked_seconds(with_dds_profile(env, tmp_path))
    assert len(plain) == len(fleet) == 1, (plain, fleet)
    assert plain[0] < 1.0, "without the profile Fast DDS waits its default 0.1 s"
    assert fleet[0] >= 1.5, f"the profile's 2 s wait did not apply: {fleet[0]:.3f} s"
