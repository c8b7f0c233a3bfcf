"""Helpers for the DDS tests: one node process and, in the test process, a client node on its domain."""
import contextlib
import subprocess
import time

import pytest

from dro_ros.ros.processes import isolated_ros_env


@contextlib.contextmanager
def process_and_client(command, client_name):
    """Start `command` on a private ROS domain and yield (client node, its context); the test process
    joins the same domain. The process is terminated (killed after 10 s) on exit."""
    import rclpy
    from rclpy.context import Context

    env = isolated_ros_env()
    patch = pytest.MonkeyPatch()
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        patch.setenv(key, env[key])
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node(client_name, context=context)
    try:
        yield node, context
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        patch.undo()


def call_idempotent(node, context, client, request, timeout=60.0, attempt=10.0):
    """Call `client` with `request`, which must be safe to repeat, and return the first reply.

    Fast DDS drops a reply when the service answers before its reply writer has matched this client's
    reply reader (it waits 100 ms; ros2/rmw_fastrtps#842), which a fresh client on a loaded machine can
    hit. So the request is sent again every `attempt` seconds, keeping every earlier one, until `timeout`."""
    import rclpy

    assert client.wait_for_service(timeout_sec=30.0), f"{client.srv_name} not discovered within 30 s"
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    futures, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            futures.append(client.call_async(request))
            until = min(deadline, time.monotonic() + attempt)
            while time.monotonic() < until and not any(f.done() for f in futures):
                executor.spin_once(timeout_sec=0.1)
            done = [f for f in futures if f.done()]
            if done:
                return done[0].result()
    finally:
        executor.remove_node(node)
    raise AssertionError(f"{client.srv_name}: no reply within {timeout} s ({len(futures)} requests sent)")
