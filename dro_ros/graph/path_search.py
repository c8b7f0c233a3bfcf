"""The search for a shortest dominating path, the sweep order CDS-PS needs (thesis Sec. 3.2).

The thesis leaves this search open ("we will simply assume that such a search algorithm can be
readily implemented"). Deciding whether a dominating path exists is NP-complete (hang a leaf on every
node of a graph: the result has a dominating path iff the graph has a Hamiltonian path), so this is an
exact search, exponential in the worst case, pruned by three facts about a dominating path P of a
connected graph G:

1. P contains every cut vertex v: otherwise P, connected in G - v, lies in one part of G - v and
   cannot dominate the others.
2. Every part of G - v holding a node not adjacent to v must meet P, and a path through v reaches at
   most two parts; with three such parts no dominating path exists. On a tree this test is exact: it
   fails iff the non-leaves do not form a path (the tree is not a caterpillar).
3. With `left` nodes still to add after the current end e, every undominated node is within
   left + 1 hops of e, and every cut vertex not yet on P within `left` hops.

Iterative deepening over the length (from the number of cut vertices up to `max_length`), each level a
depth-first search in ascending node order, returns the shortest path, lexicographically smallest
among the shortest. Node sets are bit masks. Cost: O(n (n + m)) set-up plus the pruned enumeration of
simple paths, at most n per start node and level on a tree, exponentially many on dense graphs.
"""
from __future__ import annotations

from typing import Iterator

from dro_ros.core.topology import Topology, TopologyError

NO_PATH = "graph has no connected dominating set that induces a path"


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _names(mask: int) -> str:
    return "{" + ", ".join(map(str, _bits(mask))) + "}"


def _parts_without(adjacent: list[int], full: int, v: int) -> list[int]:
    """The connected components of G - v, as bit masks."""
    parts, rest = [], full & ~(1 << v)
    while rest:
        part = frontier = rest & -rest
        while frontier:
            reached = 0
            for i in _bits(frontier):
                reached |= adjacent[i]
            frontier = reached & rest & ~part
            part |= frontier
        parts.append(part)
        rest &= ~part
    return parts


def _balls(distance: list[int]) -> list[int]:
    """`balls[d]`: the nodes within d hops, for d = 0..n."""
    balls = [0] * (len(distance) + 1)
    for j, d in enumerate(distance):
        balls[d] |= 1 << j
    for d in range(1, len(balls)):
        balls[d] |= balls[d - 1]
    return balls


def _cut_vertices(topology: Topology, adjacent: list[int], closed: list[int], full: int) -> int:
    """The cut vertices as a mask (fact 1); raises `TopologyError` when fact 2 rules out every path."""
    forced = 0
    for v in range(topology.n):
        parts = _parts_without(adjacent, full, v)
        if len(parts) > 1:
            forced |= 1 << v
        far = [part for part in parts if part & ~closed[v]]
        if len(far) > 2:
            listed = ", ".join(map(_names, far))
            raise TopologyError(f"{NO_PATH}: node {v} separates {len(far)} parts it does not dominate "
                                f"({listed}), and a path through it reaches at most 2")
    return forced


def shortest_dominating_path(topology: Topology, start: int | None = None,
                             max_length: int | None = None) -> tuple[int, ...]:
    """The shortest path whose nodes dominate the connected `topology`, lexicographically smallest.

    `start` fixes v_0; `max_length` caps the number of nodes (default n). Raises `TopologyError`
    when no such path exists.
    """
    n = topology.n
    limit = n if max_length is None else max_length
    if limit < 1:
        raise TopologyError(f"max_length: must be at least 1, got {limit}")
    adjacent = [sum(1 << j for j in topology.neighbours[i]) for i in range(n)]
    closed = [adjacent[i] | 1 << i for i in range(n)]
    full = (1 << n) - 1
    forced = _cut_vertices(topology, adjacent, closed, full)
    def reach(end: int, visited: int, left: int) -> int:
        """The nodes the path can still visit: within `left` steps of `end` through unvisited nodes."""
        reached = frontier = 1 << end
        for _ in range(left):
            step = 0
            for i in _bits(frontier):
                step |= adjacent[i]
            frontier = step & ~visited & ~reached
            if not frontier:
                break
            reached |= frontier
        return reached

    def extend(path: tuple[int, ...], visited: int, covered: int, length: int) -> tuple[int, ...] | None:
        left = length - len(path)
        if left == 0:
            return path if covered == full else None
        if (path[-1], visited) in failed:
            return None
        missing = forced & ~visited
        reachable = reach(path[-1], visited, left)
        coverable = 0
        for i in _bits(reachable):
            coverable |= closed[i]
        if full & ~covered & ~coverable or missing & ~reachable or missing.bit_count() > left:
            failed.add((path[-1], visited))
            return None
        for j in topology.neighbours[path[-1]]:
            if not visited >> j & 1:
                found = extend(path + (j,), visited | 1 << j, covered | closed[j], length)
                if found:
                    return found
        failed.add((path[-1], visited))
        return None

    starts = range(n) if start is None else (start,)
    for length in range(max(1, forced.bit_count()), limit + 1):
        failed: set[tuple[int, int]] = set()
        for s in starts:
            found = extend((s,), 1 << s, closed[s], length)
            if found:
                return found
    where = "" if start is None else f" starting at node {start}"
    within_limit = "" if max_length is None else f" with at most {max_length} nodes"
    raise TopologyError(f"{NO_PATH}{where}{within_limit}")
