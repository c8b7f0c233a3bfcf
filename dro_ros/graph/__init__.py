"""The graph layer: trees and connected dominating sets for the sweep methods (pure Python, no rclpy).

    from dro_ros.graph import root_tree, find_path_cds
    root_tree(topology).stages          # CDS-BS: who solves at each stage (thesis Sec. 3.1)
    find_path_cds(topology).assigned    # CDS-PS: which nodes each path stage decides (Sec. 3.2)

Modules: `trees` (eccentricity, radius, centre, rooting for the branch sweep, the minimum CDS of a
tree), `cds` (domination tests, the path sweep's stages, the path search entry point),
`path_search` (the search for a shortest dominating path), `checks` (shared input errors).
The graphs themselves are `dro_ros.core.topology.Topology`.
"""
from dro_ros.graph.cds import (SweepPath, find_path_cds, induces_path, is_connected_dominating, is_dominating,
                               sweep_path)
from dro_ros.graph.trees import (RootedTree, centre, eccentricity, is_tree, minimum_cds_of_tree, radius,
                                 root_tree)

__all__ = ["RootedTree", "SweepPath", "centre", "eccentricity", "find_path_cds", "induces_path",
           "is_connected_dominating", "is_dominating", "is_tree", "minimum_cds_of_tree", "radius", "root_tree",
           "sweep_path"]
