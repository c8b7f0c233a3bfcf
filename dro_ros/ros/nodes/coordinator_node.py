"""`coordinator_node`: the coordinator of the coordinated ADMM variants (sharing, consensus), in
namespace `/coordinator`. It is the lifecycle `agent_node` (same parameters, services and status) hosting
the `admm_coordinator` agent; the robots' flex actors run in their own `agent_node`s.
"""
import sys

from dro_ros.ros.nodes.agent_node import main

if __name__ == "__main__":
    main(sys.argv)
