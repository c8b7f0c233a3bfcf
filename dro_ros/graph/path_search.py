"""The search for a shortest dominating path, the sweep order CDS-PS needs (thesis Sec. 3.2).

The thesis leaves this search open ("we will simply assume that such a search algorithm can be
readily implemented"). Deciding whether a dominating path exists is NP-complete (hang a leaf on every
node of a graph: the result has a dominating path iff the graph has a Hamiltonian path), so this is an
exact search, exponential in the worst case, pruned by facts about a dominating path P of a connected
graph G:

1. P contains every cut vertex v: otherwise P, connected in G - v, lies in one part of G - v and
   cannot dominate the others.
2. A part of G - v holding a node that v does not dominate (a "far part") must meet P, and P reaches
   it only through v, so an end of P lies in it. Two ends must cover every far part of every cut
   vertex; if no two nodes do, no dominating path exists. On a tree this is exact: it fails iff the
   non-leaves do not form a path (the tree is not a caterpillar). Given the start v_0, the other end
   lies in every far part that misses v_0 (its "end zone").
3. With `left` nodes still to add after the current end e, reachable only through unvisited nodes
   within `left` steps: every undominated node must be next to one, every cut vertex not yet on P
   must be one, and so must a node of the end zone.

A depth-first search in ascending node order, remembering dead (end, visited) states, finds any path
of at most L nodes; branch and bound lowers L until no path fits, and a last search at the optimum
returns the lexicographically smallest shortest path. Node sets are bit masks. Cost: the components
of G - v for every v, O(n (n + m)), plus the pruned search: at most n paths per start node and bound
on a tree, exponential on some sparse graphs, so `budget` caps the states expanded.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from dro_ros.core.topology import Topology, TopologyError

NO_PATH = "graph has no connected dominating set that induces a path"
SEARCH_BUDGET = 1_000_000


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


def _separations(adjacent: list[int], closed: list[int], full: int) -> tuple[int, list[int]]:
    """The cut vertices (fact 1) and each start's end zone (fact 2), as bit masks.

    Raises `TopologyError` when no two nodes can end a dominating path.
    """
    forced, far = 0, []
    for v in range(len(adjacent)):
        parts = _parts_without(adjacent, full, v)
        if len(parts) > 1:
            forced |= 1 << v
            far += [part for part in parts if part & ~closed[v]]
    zones = []
    for s in range(len(adjacent)):
        zone = full
        for part in far:
            if not part >> s & 1:
                zone &= part
        zones.append(zone)
    if not any(zones):
        smallest = sorted({part for part in far if not any(p != part and p & ~part == 0 for p in far)})
        listed = ", ".join(map(_names, smallest))
        raise TopologyError(f"{NO_PATH}: a path must end in each of the parts {listed} (each lies beyond a "
                            "cut vertex that does not dominate it), and no two nodes cover them all")
    return forced, zones


class _Search:
    """Depth-first search for dominating paths of at most `length` nodes, in lexicographic order."""

    def __init__(self, topology: Topology, budget: int) -> None:
        n = topology.n
        self.neighbours = topology.neighbours
        self.adjacent = [sum(1 << j for j in topology.neighbours[i]) for i in range(n)]
        self.closed = [self.adjacent[i] | 1 << i for i in range(n)]
        self.full = (1 << n) - 1
        self.forced, self.zones = _separations(self.adjacent, self.closed, self.full)
        self.budget = budget
        self.failed: set[tuple[int, int]] = set()

    def first(self, starts: Sequence[int], length: int) -> tuple[int, ...] | None:
        """The lexicographically first dominating path of at most `length` nodes starting in `starts`."""
        self.failed = set()
        for s in starts:
            found = self._extend((s,), 1 << s, self.closed[s], length) if self.zones[s] else None
            if found:
                return found
        return None

    def _reach(self, end: int, visited: int, left: int) -> int:
        """The nodes the path can still visit: within `left` steps of `end` through unvisited nodes."""
        reached = frontier = 1 << end
        for _ in range(left):
            step = 0
            for i in _bits(frontier):
                step |= self.adjacent[i]
            frontier = step & ~visited & ~reached
            if not frontier:
                break
            reached |= frontier
        return reached

    def _extend(self, path: tuple[int, ...], visited: int, covered: int, length: int) -> tuple[int, ...] | None:
        if covered == self.full:
            return path
        end, left = path[-1], length - len(path)
        if left == 0 or (end, visited) in self.failed:
            return None
        self.budget -= 1
        if self.budget < 0:
            raise TopologyError(f"path search gave up: budget exhausted before finding a path of at most "
                                f"{length} nodes or ruling one out; pass a larger budget or a path of your own")
        reachable, missing = self._reach(end, visited, left), self.forced & ~visited
        coverable = 0
        for i in _bits(reachable):
            coverable |= self.closed[i]
        if not (self.full & ~covered & ~coverable or missing & ~reachable or missing.bit_count() > left
                or not reachable & self.zones[path[0]]):
            for j in self.neighbours[end]:
                if not visited >> j & 1:
                    found = self._extend(path + (j,), visited | 1 << j, covered | self.closed[j], length)
                    if found:
                        return found
        self.failed.add((end, visited))
        return None


def shortest_dominating_path(topology: Topology, start: int | None = None, max_length: int | None = None,
                             budget: int = SEARCH_BUDGET) -> tuple[int, ...]:
    """The shortest path whose nodes dominate the connected `topology`, lexicographically smallest.

    `start` fixes v_0; `max_length` caps the number of nodes (default n); `budget` caps the search
    states expanded. Raises `TopologyError` when no such path exists or the budget runs out.
    """
    limit = topology.n if max_length is None else max_length
    if limit < 1:
        raise TopologyError(f"max_length: must be at least 1, got {limit}")
    search = _Search(topology, budget)
    starts = range(topology.n) if start is None else (start,)
    level, best = limit, search.first(starts, limit)
    if best is None:
        where = "" if start is None else f" starting at node {start}"
        within_limit = "" if max_length is None else f" with at most {max_length} nodes"
        raise TopologyError(f"{NO_PATH}{where}{within_limit}")
    while len(best) > 1 and (shorter := search.first(starts, len(best) - 1)):
        level, best = len(best) - 1, shorter
    # Nothing is shorter than `best`. Found below its search bound, it may follow longer paths in
    # lexicographic order, so search again at its own length (`best` qualifies, so a path is found).
    return best if len(best) == level else search.first(starts, len(best)) or best
