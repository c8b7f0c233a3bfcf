"""Helpers for the DDS tests: one node process and, in the test process, a client node on its domain."""
import contextlib
import subprocess

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
