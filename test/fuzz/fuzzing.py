"""What every fuzz test shares: the budget, near-valid inputs, the hang guard and the rejection check.

Near-valid inputs: `mutants(valid)` starts from a valid document (a nested dict/list, as YAML or JSON
decodes it) and changes one node: deletes it, replaces it with a wrong type, NaN, an infinity, a negative,
zero or huge number, an empty container, nested garbage, or lengthens a list, or adds an unknown key. So
every check past the first is reached, which random documents almost never do.
"""
from __future__ import annotations

import copy
import math
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from hypothesis import settings
from hypothesis import strategies as st

LEVEL = os.environ.get("DRO_ROS_FUZZ", "ci")
if LEVEL not in ("ci", "deep"):
    raise ValueError(f"DRO_ROS_FUZZ: expected ci or deep, got {LEVEL!r}")

HANG_SECONDS = 20.0
"""Wall seconds one example may take before it counts as a hang (a valid input may start a real solve)."""

UNRELATED = (TypeError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError, RecursionError,
             AssertionError)


def fuzz_settings(share: float = 1.0) -> settings:
    """The active profile (`fuzz-ci` or `fuzz-deep`, see conftest), with `share` of its examples (a boundary
    whose every example runs a distributed solve takes fewer)."""
    profile = settings.get_profile(f"fuzz-{LEVEL}")
    return settings(profile, max_examples=max(10, int(profile.max_examples * share)))


class Hang(AssertionError):
    """An example ran longer than `HANG_SECONDS`."""


@contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail with `Hang` if the block runs longer than `seconds` (SIGALRM: the test's main thread only)."""
    def expire(signum, frame):
        raise Hang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- near-valid documents ----------------------------------------------------------------------------

Path = tuple[Any, ...]

GARBAGE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([10 ** 30, -(10 ** 30), 2 ** 63, 10 ** 400, 1e308]),
    st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.0, -1e-300]), st.text(max_size=4),
    st.just([]), st.just({}), st.just(""), st.just([[["x"]]]), st.just({"kind": {"kind": None}}),
    st.lists(st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@dataclass(frozen=True)
class Mutant:
    """`document` is the valid one with `how` applied at `path`; `field` is the key a rejection should name."""

    document: Any
    path: Path
    how: str

    @property
    def field(self) -> str:
        keys = [str(p) for p in self.path if isinstance(p, str)]
        return keys[-1] if keys else ""


def nodes(document: Any, path: Path = ()) -> list[Path]:
    """Every path below the root of a nested dict/list document."""
    found: list[Path] = []
    children = document.items() if isinstance(document, dict) else enumerate(document) \
        if isinstance(document, list) else ()
    for key, value in children:
        found.append(path + (key,))
        found.extend(nodes(value, path + (key,)))
    return found


def keys_of(document: Any) -> set[str]:
    """Every mapping key anywhere in `document`."""
    keys: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            keys.add(str(key))
            keys |= keys_of(value)
    elif isinstance(document, list):
        for value in document:
            keys |= keys_of(value)
    return keys


def _numbers_for(value: Any) -> list[Any]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    return [-value, 0, value * 1e12, value + 0.5, math.nan, math.inf, -math.inf, str(value), [value]]


@st.composite
def mutants(draw: st.DrawFn, valid: Any, protect: tuple[Path, ...] = ()) -> Mutant:
    """One mutation of one node of `valid` (a deep copy; paths in `protect` and below stay intact)."""
    document = copy.deepcopy(valid)
    choices = [p for p in nodes(document) if not any(p[:len(q)] == q for q in protect)]
    path = draw(st.sampled_from(choices))
    *above, last = path
    parent = document
    for key in above:
        parent = parent[key]
    value = parent[last]
    how = draw(st.sampled_from(["delete", "garbage", "number", "lengthen", "unknown key", "shorten"]))
    if how == "delete":
        del parent[last]
    elif how == "number" and _numbers_for(value):
        parent[last] = draw(st.sampled_from(_numbers_for(value)))
    elif how == "lengthen" and isinstance(value, list):
        parent[last] = value + draw(st.sampled_from([value[-1:] if value else [], [None], value]))
    elif how == "shorten" and isinstance(value, list) and value:
        parent[last] = value[:draw(st.integers(0, len(value) - 1))]
    elif how == "unknown key" and isinstance(value, dict):
        value[draw(st.sampled_from(["bogus", "", "kind", "__class__"]))] = draw(GARBAGE)
    else:
        how = "garbage"
        parent[last] = draw(GARBAGE)
    return Mutant(document, tuple(path), how)


def rejected_by_name(call: Callable[[], Any], error: type[BaseException] | tuple[type[BaseException], ...],
                     named: set[str]) -> BaseException | None:
    """Run `call` under the hang guard. It may succeed (a mutation can leave the input valid); if it raises,
    the exception must be `error` and its message must name a field: one of `named`. Returns the rejection."""
    try:
        with no_hang():
            call()
    except error as raised:
        text = str(raised)
        assert any(name and name in text for name in named), f"rejection names no field: {text!r}"
        return raised
    return None
