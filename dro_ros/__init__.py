"""dro_ros: distributed optimization for robot fleets, on an in-process or a ROS 2 carrier.

The names below are dro_ros's entry points, named after the reference package
`distributed-resource-optimization`, whose README examples run with only the import changed; the full
drop-in for that package (every public name, same signatures) is `dro_ros.compat`. Importing this package
never imports rclpy; the ROS 2 adapters live in `dro_ros.ros`.
"""
import pkgutil

# The generated interfaces (dro_ros.msg, dro_ros.srv) live in the colcon install space, the library in
# the source tree or its symlinked copy: merge every `dro_ros` directory on sys.path into one package.
__path__ = pkgutil.extend_path(__path__, __name__)

from dro_ros.core.simple import ActorContainer, NetworkModel, SimpleCarrier, cid, run_in_process  # noqa: E402
from dro_ros.resource.admm import (AdmmResult, create_admm_flex_actor_one_to_many,  # noqa: E402
                                   create_admm_sharing_data, create_admm_start, create_admm_start_consensus,
                                   create_consensus_target_reach_admm_coordinator,
                                   create_sharing_target_distance_admm_coordinator,
                                   start_coordinated_optimization)
from dro_ros.resource.averaging import AveragingAgent  # noqa: E402
from dro_ros.resource.cohda import (CohdaRunResult, create_cohda_participant,  # noqa: E402
                                    create_cohda_start_message, start_distributed_optimization)

__version__ = "0.1.0"

__all__ = ["ActorContainer", "AdmmResult", "AveragingAgent", "CohdaRunResult", "NetworkModel", "SimpleCarrier",
           "cid", "create_admm_flex_actor_one_to_many", "create_admm_sharing_data", "create_admm_start",
           "create_admm_start_consensus", "create_cohda_participant", "create_cohda_start_message",
           "create_consensus_target_reach_admm_coordinator", "create_sharing_target_distance_admm_coordinator",
           "run_in_process", "start_coordinated_optimization", "start_distributed_optimization"]
