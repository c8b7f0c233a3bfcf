"""A trajectory fleet in Gazebo (gz-sim via ros_gz) instead of the kinematic `fleet_sim_node`.

    ros2 launch dro_ros gazebo.launch.py [config:=/path/to/fleet.yaml] [world:=empty.sdf]

Needs a full ROS 2 install with ros_gz (ros_gz_sim, ros_gz_bridge) and Gazebo; neither installs on the
pip-only machines this package is developed on, so this file is checked for structure only. What it
starts comes from `dro_ros.ros.launch_plan.gazebo_plan` (tested): Gazebo with `world`; per robot its model
spawned at its initial pose and one ros_gz_bridge for its topics (the ones `fleet_sim_node` uses); then
the config's agents, trackers and supervisor. Holonomic robots are discs (VelocityControl on
`/<robot>/cmd_vel`, OdometryPublisher on `/<robot>/odom`; VelocityControl applies the commanded velocity
at once, so give the trackers a small `lag`, e.g. 0.01 s). Diff-drive robots (`robot: {kind: diff_drive}`)
are two-wheeled models with a caster (`dro_ros.ros.gazebo_models`: DiffDrive on `/<robot>/cmd_vel` and
`/<robot>/odom`, OdometryPublisher on `/<robot>/ground_truth`). The run ends when the supervisor exits.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction, Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from dro_ros.ros.launch_plan import gazebo_plan, load_config


def _fleet(context):
    config = load_config(LaunchConfiguration("config").perform(context))
    nodes, robots = gazebo_plan(config)
    actions = []
    for robot in robots:
        x, y, z = robot.position
        actions.append(Node(package="ros_gz_sim", executable="create", output="screen",
                            arguments=["-name", robot.name, "-string", robot.sdf,
                                       "-x", str(x), "-y", str(y), "-z", str(z), "-Y", str(robot.heading)]))
        actions.append(Node(package="ros_gz_bridge", executable="parameter_bridge", name=f"{robot.name}_bridge",
                            arguments=list(robot.bridges), output="screen"))
    actions += [Node(package="dro_ros", executable=n.executable, name=n.name, namespace=n.namespace,
                     parameters=[n.parameters], output="screen",
                     on_exit=Shutdown(reason=f"{n.name} exited") if n.required else None) for n in nodes]
    return actions


def generate_launch_description():
    share = get_package_share_directory("dro_ros")
    gz_sim = os.path.join(get_package_share_directory("ros_gz_sim"), "launch", "gz_sim.launch.py")
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=os.path.join(share, "config", "formation2d.yaml")),
        DeclareLaunchArgument("world", default_value="empty.sdf"),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(gz_sim),
                                 launch_arguments={"gz_args": ["-r ", LaunchConfiguration("world")]}.items()),
        OpaqueFunction(function=_fleet),
    ])
