"""Connected dominating sets and the path sweep's stage structure (thesis Sec. 3.2, CDS-PS, Algorithm 3).

A set D dominates the graph when every node is in D or next to a node of D; it is a connected
dominating set (CDS) when D also induces a connected subgraph (Sec. 3.1). The path sweep needs a CDS
that "induces a path" G^D: an order v_0, ..., v_s of D in which consecutive nodes are adjacent. The
thesis builds G^D from D "along with a subset of E", so here edges between non-consecutive path
nodes (chords) are allowed: the sweep only uses the order, never the absence of other edges.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from dro_ros.core.topology import Topology, TopologyError
from dro_ros.graph.checks import require_connected, require_node
from dro_ros.graph.path_search import SEARCH_BUDGET, shortest_dominating_path


def _closed(topology: Topology, i: int) -> set[int]:
    """N[i] = S_i, the closed neighbourhood of i."""
    return {i, *topology.neighbours[i]}


def _undominated(topology: Topology, nodes: Iterable[int]) -> list[int]:
    covered: set[int] = set()
    for i in nodes:
        require_node(topology, i, "nodes")
        covered |= _closed(topology, i)
    return [i for i in range(topology.n) if i not in covered]


def is_dominating(topology: Topology, nodes: Iterable[int]) -> bool:
    """Every node is in `nodes` or adjacent to one of them (Sec. 3.1)."""
    return not _undominated(topology, nodes)


def is_connected_dominating(topology: Topology, nodes: Iterable[int]) -> bool:
    """`nodes` dominate and induce a connected subgraph G^D (Sec. 3.1)."""
    chosen = set(nodes)
    if not chosen or not is_dominating(topology, chosen):
        return False
    reached, frontier = set(), [min(chosen)]
    while frontier:
        i = frontier.pop()
        if i not in reached:
            reached.add(i)
            frontier.extend(j for j in topology.neighbours[i] if j in chosen)
    return reached == chosen


def _path_defect(topology: Topology, path: Sequence[int]) -> str | None:
    """Why `path` is not an ordered path of the graph, or None if it is."""
    if not path:
        return "has no nodes"
    for i in path:
        require_node(topology, i, f"path {list(path)}")
    seen: set[int] = set()
    for i in path:
        if i in seen:
            return f"node {i} appears twice"
        seen.add(i)
    for i, j in zip(path, path[1:]):
        if j not in topology.neighbours[i]:
            return f"nodes {i} and {j} are not adjacent"
    return None


def induces_path(topology: Topology, nodes: Sequence[int]) -> bool:
    """The ordered, non-empty `nodes` are distinct and each is adjacent to the next.

    Chords between non-consecutive nodes are allowed (see the module docstring). Nodes outside
    0..n-1 raise `TopologyError`.
    """
    return _path_defect(topology, nodes) is None


@dataclass(frozen=True)
class SweepPath:
    """The stage structure of a path sweep along v_0, ..., v_s (CDS-PS, Algorithm 3).

    `parent[i]`: the node that sends i its decision. For a path node v_k, k >= 1, it is v_{k-1};
    for a node off the path it is the path node of smallest position adjacent to it (eq. 3.12);
    None for the root v_0. `position[i]` is k for i = v_k, None off the path.
    `fixed_before[k]` is F_{k-1}, the nodes decided before stage k (eq. 3.8; empty for k = 0), and
    `assigned[k]` is S̄_{v_k} = N[v_k] \\ F_{k-1}, the nodes first decided at stage k (S_{v_0} for
    k = 0). The assigned sets partition the nodes: F_s = V.
    """

    path: tuple[int, ...]
    parent: tuple[int | None, ...]
    position: tuple[int | None, ...]
    assigned: tuple[tuple[int, ...], ...]
    fixed_before: tuple[tuple[int, ...], ...]


def _parent(topology: Topology, path: Sequence[int], position: list[int | None], i: int) -> int | None:
    """v_{k-1} for a path node v_k (None for v_0); off the path, v_k for the smallest adjacent k (eq. 3.12)."""
    k = position[i]
    if k is not None:
        return path[k - 1] if k else None
    return path[min(position[j] for j in topology.neighbours[i] if position[j] is not None)]


def sweep_path(topology: Topology, path: Sequence[int]) -> SweepPath:
    """Validate `path` as a dominating path of a connected graph and derive its sweep stages.

    Raises `TopologyError` naming the defect: a disconnected graph, a node out of range or repeated,
    consecutive nodes that are not adjacent, or a node the path does not dominate.
    """
    require_connected(topology)
    label = f"path {list(path)}"
    defect = _path_defect(topology, path)
    if defect:
        raise TopologyError(f"{label}: {defect}")
    undominated = _undominated(topology, path)
    if undominated:
        names = f"node {undominated[0]}" if len(undominated) == 1 else f"nodes {undominated}"
        raise TopologyError(f"{label}: does not dominate {names}")
    position: list[int | None] = [None] * topology.n
    for k, v in enumerate(path):
        position[v] = k
    parent = tuple(_parent(topology, path, position, i) for i in range(topology.n))
    fixed: set[int] = set()
    assigned, fixed_before = [], []
    for v in path:
        fixed_before.append(tuple(sorted(fixed)))
        assigned.append(tuple(sorted(_closed(topology, v) - fixed)))
        fixed |= _closed(topology, v)
    return SweepPath(tuple(path), parent, tuple(position), tuple(assigned), tuple(fixed_before))


def find_path_cds(topology: Topology, start: int | None = None, max_length: int | None = None, *,
                  budget: int = SEARCH_BUDGET) -> SweepPath:
    """The shortest dominating path (fewest sweep stages), as a `SweepPath` (CDS-PS, Sec. 3.2).

    Ties go to the lexicographically smallest sequence; with `start`, only paths with v_0 = start
    count; with `max_length`, only paths of at most that many nodes. Raises `TopologyError` on a
    disconnected graph, when no such path exists, or when the search expands more than `budget`
    states: it is exponential in the worst case (see `dro_ros.graph.path_search`), polynomial on trees.
    """
    require_connected(topology)
    if start is not None:
        require_node(topology, start, "start")
    return sweep_path(topology, shortest_dominating_path(topology, start, max_length, budget))
