"""COHDA's wire messages: the start (the target) and the published update (Sigma_i, Sigma*_i).

A configuration travels flattened: `states` (k, 2) int64 rows [agent id, counter], `schedules`
(k, q) float64, `terms` (k, 2) float64 rows [alpha, weighted penalty]. Every message is a copy
(the codec encodes and decodes it, in process as on DDS), so a receiver never sees later changes of the
sender's memory: what an agent knows is exactly what it was sent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dro_ros.core.carrier import MessageRejected
from dro_ros.core.codec import FloatArray, IntArray, wire_message
from dro_ros.resource.cohda.configuration import Configuration


@wire_message("cohda")
@dataclass
class Start:
    """Starts a run at the receiving agent, which becomes the root of termination detection.

    `detect_termination`: run weight throwing and flood `Stop` once done (required over ROS, where no
    observer sees quiescence); otherwise the in-process run simply ends at quiescence.
    """

    target: FloatArray
    weights: FloatArray
    detect_termination: bool


@wire_message("cohda")
@dataclass
class Update:
    """publish (Sec. 2.3, step 3): the sender's perceived Sigma_i and best-known Sigma*_i, stacked.

    Rows 0 .. perceived-1 of `states`/`schedules`/`terms` are Sigma_i, the remaining rows Sigma*_i; no
    remaining rows means Sigma*_i = Sigma_i (a best-known configuration is never empty). `iteration` is
    the sender's number of decisions; `credit` its share of termination credit ("" without detection).
    """

    iteration: int
    target: FloatArray   # (2, q): the target c and the interval weights
    states: IntArray     # (k, 2): [agent id, counter]
    schedules: FloatArray  # (k, q)
    terms: FloatArray    # (k, 2): [alpha, weighted penalty]
    perceived: int
    credit: str


def pack(config: Configuration, best: Configuration) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(states, schedules, terms, perceived) of an `Update` carrying `config` and `best`."""
    parts = [config] if best is config else [config, best]
    states = np.concatenate([np.stack([c.ids, c.counters], axis=1) for c in parts])
    schedules = np.concatenate([c.schedules for c in parts])
    terms = np.concatenate([c.terms for c in parts])
    return states, schedules, terms, len(config)


def unpack(message: Update, q: int, sender: str) -> tuple[Configuration, Configuration]:
    """(Sigma_k, Sigma*_k) of an `Update`, checking shapes, order and finiteness (errors name the field)."""
    states, schedules, terms, split = message.states, message.schedules, message.terms, message.perceived
    k = len(states) if states.ndim else 0
    if states.shape != (k, 2) or schedules.shape != (k, q) or terms.shape != (k, 2):
        raise MessageRejected(f"update from {sender}: states/schedules/terms: shapes {states.shape}, "
                              f"{schedules.shape}, {terms.shape} do not describe {k} states of {q} intervals")
    if not 0 <= split <= k:
        raise MessageRejected(f"update from {sender}: perceived: {split} is not within 0..{k}")
    if not (_finite(schedules) and _finite(terms)):
        raise MessageRejected(f"update from {sender}: schedules/terms: not finite")
    ids, counters = states[:, 0].copy(), states[:, 1].copy()
    increasing = ids[1:] > ids[:-1]
    for which, part in (("Sigma_i", slice(0, max(split - 1, 0))), ("Sigma*_i", slice(split, None))):
        if not increasing[part].all():
            raise MessageRejected(f"update from {sender}: states: agent ids of {which} are not strictly increasing")
    config = Configuration(ids[:split], counters[:split], schedules[:split], terms[:split])
    best = config if split == k else Configuration(ids[split:], counters[split:], schedules[split:], terms[split:])
    return config, best


def _finite(values: np.ndarray) -> bool:
    """All entries finite; one reduction in the usual case (a finite sum), the exact test otherwise."""
    return math.isfinite(values.sum()) or bool(np.isfinite(values).all())
