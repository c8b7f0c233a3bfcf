"""Input checks shared by the graph layer; each error names the offending node or nodes."""
from __future__ import annotations

from dro_ros.core.topology import Topology, TopologyError


def require_connected(topology: Topology) -> None:
    """Raise `TopologyError` listing the nodes that node 0 cannot reach."""
    unreachable = [i for i, d in enumerate(topology.hop_distances(0)) if d < 0]
    if unreachable:
        names = ", ".join(map(str, unreachable))
        raise TopologyError(f"graph is disconnected: nodes {{{names}}} unreachable from 0")


def require_node(topology: Topology, node: int, what: str) -> None:
    """Raise `TopologyError` if `node` is not one of 0..n-1; `what` names the argument."""
    if not 0 <= node < topology.n:
        raise TopologyError(f"{what}: node {node} is outside 0..{topology.n - 1}")
