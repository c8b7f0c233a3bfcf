"""QoS profiles shared by the nodes."""
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

# Latched: RELIABLE + TRANSIENT_LOCAL, depth 1; a subscriber that joins late still gets the last message
# (plans, the fleet's start, the latest schedule).
LATCHED = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                     history=HistoryPolicy.KEEP_LAST, depth=1)

# The robots' shared states (`tracker_node`, `/fleet/states`): fresh beats complete, and one reader keeps
# several writers' latest samples.
SHARED_STATES = QoSProfile(reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE,
                           history=HistoryPolicy.KEEP_LAST, depth=16)
