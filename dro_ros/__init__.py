"""dro_ros: distributed optimization for robot fleets, on an in-process or a ROS 2 carrier.

Importing this package never imports rclpy; the ROS 2 adapters live in `dro_ros.ros`.
"""
import pkgutil

# The generated interfaces (dro_ros.msg, dro_ros.srv) live in the colcon install space, the library in
# the source tree or its symlinked copy: merge every `dro_ros` directory on sys.path into one package.
__path__ = pkgutil.extend_path(__path__, __name__)

__version__ = "0.1.0"
