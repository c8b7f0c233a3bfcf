"""Base classes of the reference package's "write your own algorithm" how-to.

An algorithm reacts to messages (`DistributedAlgorithm.on_exchange_message(carrier, message_data, meta)`);
a coordinator drives a run (`Coordinator.start_optimization(carrier, message_data, meta)`) and returns
its result. Payloads may be any picklable object; the carriers deliver copies.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class OptimizationMessage:
    """Marker base class of optimization messages (any class may be sent; this one only names intent)."""


class DistributedAlgorithm(ABC):
    """A participant: the carrier calls `on_exchange_message` for every message addressed to it."""

    @abstractmethod
    async def on_exchange_message(self, carrier: Any, message_data: Any, meta: Any) -> Any:
        """Handle `message_data`; `meta` holds at least "sender" and "message_id"."""


class Coordinator(ABC):
    """Drives a coordinated run (e.g. ADMM) through its carrier and returns the result."""

    @abstractmethod
    async def start_optimization(self, carrier: Any, message_data: Any, meta: Any) -> Any:
        """Run the optimization that `message_data` starts; return its result."""


async def on_exchange_message(algorithm: DistributedAlgorithm, carrier: Any, message_data: Any, meta: Any) -> Any:
    """`algorithm.on_exchange_message(carrier, message_data, meta)`."""
    return await algorithm.on_exchange_message(carrier, message_data, meta)


async def start_optimization(coordinator: Coordinator, carrier: Any, message_data: Any, meta: Any) -> Any:
    """`coordinator.start_optimization(carrier, message_data, meta)`."""
    return await coordinator.start_optimization(carrier, message_data, meta)


class CoordinatedDistributedAlgorithm:
    """A coordinator with its participants, as one value."""

    def __init__(self, distributed_algo: list[DistributedAlgorithm], coordinator: Coordinator) -> None:
        self.distributed_algo = distributed_algo
        self.coordinator = coordinator
