"""Trees, eccentricity and the branch sweep's rooting (thesis Sec. 3.1, CDS-BS, Algorithm 2).

A tree is a connected graph without cycles. Its leaves L are the nodes with one neighbour, and its
unique minimum connected dominating set is V \\ L: the nodes that solve in the branch sweep. Rooting
the tree at a centre node (minimum eccentricity) makes the longest branch as short as possible, so
the sweep takes as many stages as the tree's radius.
"""
from __future__ import annotations

from dataclasses import dataclass

from dro_ros.core.topology import Topology, TopologyError
from dro_ros.graph.checks import require_connected, require_node


def is_tree(topology: Topology) -> bool:
    """Connected with n - 1 edges, i.e. one path between any two nodes (Sec. 3.1)."""
    return topology.is_connected() and len(topology.edges) == topology.n - 1


def eccentricity(topology: Topology, node: int) -> int:
    """max over v of d(node, v), the hop distance to the farthest node (Sec. 3.1); 0 for one node."""
    require_node(topology, node, "node")
    require_connected(topology)
    return max(topology.hop_distances(node))


def _eccentricities(topology: Topology) -> list[int]:
    require_connected(topology)
    return [max(topology.hop_distances(i)) for i in range(topology.n)]


def radius(topology: Topology) -> int:
    """The smallest eccentricity over all nodes (Sec. 3.1)."""
    return min(_eccentricities(topology))


def centre(topology: Topology) -> tuple[int, ...]:
    """All nodes whose eccentricity equals the radius, ascending (Sec. 3.1; one or two nodes in a tree)."""
    eccentricities = _eccentricities(topology)
    smallest = min(eccentricities)
    return tuple(i for i, e in enumerate(eccentricities) if e == smallest)


@dataclass(frozen=True)
class RootedTree:
    """A tree rooted at `root` for the branch sweep (CDS-BS, Algorithm 2).

    `parent[i]` is p_i, the one neighbour a hop closer to the root (None for the root), which sends
    node i its decision. `children[i]` is S̄_i = N_i \\ {p_i}, the neighbours i solves for and sends to.
    `depth[i]` = d(v_0, i) is the distance numbering of Fig. 3.4: a node's parent is the neighbour
    numbered one less, its children the neighbours numbered one more.
    """

    root: int
    parent: tuple[int | None, ...]
    children: tuple[tuple[int, ...], ...]
    depth: tuple[int, ...]

    @property
    def solvers(self) -> tuple[int, ...]:
        """The nodes that solve a problem: the root and every node with children, ascending.

        Rooted at a non-leaf (a centre, for n >= 3) this is V \\ L, the minimum connected dominating
        set. A single node solves alone; of two nodes, only the root solves.
        """
        return tuple(i for i, kids in enumerate(self.children) if kids or i == self.root)

    @property
    def leaves(self) -> tuple[int, ...]:
        """The nodes that never solve: every node of degree 1 except the root, ascending."""
        return tuple(i for i, kids in enumerate(self.children) if not kids and i != self.root)

    @property
    def stages(self) -> tuple[tuple[int, ...], ...]:
        """`stages[k]`: the solvers at depth k, which solve in parallel at sweep stage k (Fig. 3.3).

        There are as many stages as the tree's height from the root (one for a single node): the
        radius when the root is a centre.
        """
        solvers = self.solvers
        height = max(self.depth[i] for i in solvers)
        return tuple(tuple(i for i in solvers if self.depth[i] == k) for k in range(height + 1))


def _require_tree(topology: Topology) -> None:
    require_connected(topology)
    edges = len(topology.edges)
    if edges != topology.n - 1:
        raise TopologyError(f"graph is not a tree: it has a cycle ({edges} edges for {topology.n} nodes)")


def root_tree(topology: Topology, root: int | None = None) -> RootedTree:
    """Root a tree at `root` (default: the smallest-index centre node) by breadth-first search.

    Raises `TopologyError` if the graph is disconnected or has a cycle, or `root` is out of range.
    """
    _require_tree(topology)
    if root is None:
        root = centre(topology)[0]
    require_node(topology, root, "root")
    depth = topology.hop_distances(root)
    parent = tuple(None if i == root else next(j for j in topology.neighbours[i] if depth[j] == depth[i] - 1)
                   for i in range(topology.n))
    children = tuple(tuple(j for j in topology.neighbours[i] if depth[j] == depth[i] + 1)
                     for i in range(topology.n))
    return RootedTree(root, parent, children, tuple(depth))


def minimum_cds_of_tree(topology: Topology) -> frozenset[int]:
    """The unique minimum connected dominating set of a tree, V \\ L (Sec. 3.1, Fig. 3.2).

    For n <= 2 every node is a leaf or none is: the set is {0} (node 0 alone dominates).
    """
    _require_tree(topology)
    if topology.n <= 2:
        return frozenset({0})
    return frozenset(i for i in range(topology.n) if topology.degree(i) > 1)
