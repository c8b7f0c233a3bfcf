"""The gz-sim model of a differential-drive robot, for `gazebo.launch.py` (`launch_plan.gazebo_plan`).

A base_link (the body cylinder about the axle centre, a frictionless caster behind, the mass 0.3 body_radius
behind the axle as in `fleet.mujoco_sim`), two wheels on revolute joints about y at +-wheel_base / 2, and
two gz-sim systems on the topics `fleet_sim_node` uses:

- DiffDrive: `/<robot>/cmd_vel` (linear.x, angular.z) in, wheel odometry on `/<robot>/odom` out, with the
  body limits that the wheel limits give: |v| <= r phi_max, |omega| <= 2 r phi_max / b, and the same with
  alpha_max for the accelerations. Its odometry starts at zero at the spawn pose (the tracker's
  `odom_origin` maps it into the world frame);
- OdometryPublisher: the true pose on `/<robot>/ground_truth`, what the supervisor verifies on.
"""
from __future__ import annotations

from dro_ros.fleet.diff_drive import DiffDrive


def diff_drive_sdf(name: str, robot: DiffDrive, frame_id: str = "world", mass: float = 1.5) -> str:
    """The SDF 1.9 model `name` of `robot` (see the module docstring)."""
    r, b, body = robot.wheel_radius, robot.wheel_base, robot.body_radius
    caster = 0.4 * r
    v_max, a_max = r * robot.max_wheel_speed, r * robot.max_wheel_accel
    wheels = "".join(f"""
    <link name="{side}_wheel">
      <pose>0 {sign * b / 2} {r} -1.5708 0 0</pose>
      <inertial><mass>0.1</mass><inertia><ixx>{0.1 * r * r / 4}</ixx><iyy>{0.1 * r * r / 4}</iyy>
        <izz>{0.1 * r * r / 2}</izz></inertia></inertial>
      <collision name="tyre"><geometry><cylinder><radius>{r}</radius><length>0.02</length></cylinder></geometry>
      </collision>
      <visual name="tyre"><geometry><cylinder><radius>{r}</radius><length>0.02</length></cylinder></geometry>
      </visual>
    </link>
    <joint name="{side}_wheel_joint" type="revolute">
      <parent>base_link</parent>
      <child>{side}_wheel</child>
      <axis><xyz expressed_in="__model__">0 1 0</xyz>
        <limit><lower>-1e16</lower><upper>1e16</upper><velocity>{robot.max_wheel_speed}</velocity></limit></axis>
    </joint>""" for side, sign in (("left", 1), ("right", -1)))
    limits = "".join(f"""
      <max_{kind}>{value}</max_{kind}><min_{kind}>{-value}</min_{kind}>""" for kind, value in (
        ("linear_velocity", v_max), ("angular_velocity", 2 * v_max / b),
        ("linear_acceleration", a_max), ("angular_acceleration", 2 * a_max / b)))
    return f"""<?xml version="1.0"?>
<sdf version="1.9">
  <model name="{name}">
    <link name="base_link">
      <pose>0 0 {r} 0 0 0</pose>
      <inertial><mass>{mass}</mass><pose>{-0.3 * body} 0 0.035 0 0 0</pose>
        <inertia><ixx>{mass * body * body / 4}</ixx><iyy>{mass * body * body / 4}</iyy>
          <izz>{mass * body * body / 2}</izz></inertia></inertial>
      <collision name="body"><pose>0 0 0.035 0 0 0</pose>
        <geometry><cylinder><radius>{body}</radius><length>0.06</length></cylinder></geometry></collision>
      <visual name="body"><pose>0 0 0.035 0 0 0</pose>
        <geometry><cylinder><radius>{body}</radius><length>0.06</length></cylinder></geometry></visual>
      <collision name="caster"><pose>{-0.7 * body} 0 {caster - r} 0 0 0</pose>
        <geometry><sphere><radius>{caster}</radius></sphere></geometry>
        <surface><friction><ode><mu>0</mu><mu2>0</mu2></ode></friction></surface></collision>
    </link>{wheels}
    <plugin filename="gz-sim-diff-drive-system" name="gz::sim::systems::DiffDrive">
      <left_joint>left_wheel_joint</left_joint>
      <right_joint>right_wheel_joint</right_joint>
      <wheel_separation>{b}</wheel_separation>
      <wheel_radius>{r}</wheel_radius>{limits}
      <topic>/{name}/cmd_vel</topic>
      <odom_topic>/{name}/odom</odom_topic>
      <frame_id>{frame_id}</frame_id>
      <child_frame_id>{name}/base_link</child_frame_id>
      <odom_publish_frequency>50</odom_publish_frequency>
    </plugin>
    {odometry_publisher(f"/{name}/ground_truth", frame_id, f"{name}/base_link", 2)}
  </model>
</sdf>
"""


def odometry_publisher(topic: str, frame_id: str, base_frame: str, dimensions: int) -> str:
    """gz-sim's OdometryPublisher system: the model's true pose and twist on `topic`, 50 Hz."""
    return f"""<plugin filename="gz-sim-odometry-publisher-system" name="gz::sim::systems::OdometryPublisher">
      <odom_topic>{topic}</odom_topic>
      <odom_frame>{frame_id}</odom_frame>
      <robot_base_frame>{base_frame}</robot_base_frame>
      <odom_publish_frequency>50</odom_publish_frequency>
      <dimensions>{dimensions}</dimensions>
    </plugin>"""
