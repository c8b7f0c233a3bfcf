"""What every ADMM actor shares: it answers the coordinator's `LocalStep` with its x-update.

A subclass sets `x` (its outputs, the vector whose length the coordinator's target must match) and
implements `local_step(point, rho) -> (x, f(x))`, the x-update argmin_x f(x) + rho/2 ||x - point||^2
(Boyd et al. 2011, eq. 7.6 per actor); a `ValueError` from it is reported to the coordinator as a
failed step, which ends the run with the actor's reason.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, MessageRejected
from dro_ros.resource.admm.coordinator import AdmmStatus, LocalSolution, LocalStep, RunEnded


class LocalActor:
    """Base of the ADMM actors: protocol, status and result (see the module docstring)."""

    x: np.ndarray
    status: AdmmStatus = AdmmStatus.RUNNING
    reason: str = ""
    dimension_label = "outputs"  # names the field that fixes the number of outputs, in error messages

    def local_step(self, point: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        return self.status is not AdmmStatus.RUNNING

    @property
    def converged(self) -> bool:
        """The run ended converged (a run stopped at its iteration limit says so in `status` and `reason`)."""
        return self.status is AdmmStatus.CONVERGED

    def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if isinstance(content, LocalStep):
            carrier.reply_to_other(self._step(content), meta)
        elif isinstance(content, RunEnded):  # the coordinator's answer: the best iterate, this actor's part
            if content.status not in {s.value for s in AdmmStatus}:
                raise MessageRejected(f"status: {meta.sender} ended the run with the unknown status {content.status!r}")
            self.status, self.reason = AdmmStatus(content.status), content.reason
            if content.x.shape == self.x.shape:
                self.x = content.x

    def _step(self, step: LocalStep) -> LocalSolution:
        if not (np.all(np.isfinite(step.point)) and np.isfinite(step.rho) and step.rho > 0):
            raise MessageRejected(f"point, rho: a local step needs a finite point and a finite rho > 0, got rho "
                                  f"{step.rho}")
        if step.point.shape != self.x.shape:
            return LocalSolution(step.iteration, np.zeros(0), 0.0, False,
                                 f"{self.dimension_label}: has {self.x.size} outputs, the coordinator's target "
                                 f"has {step.point.size}")
        try:
            x, cost = self.local_step(step.point, step.rho)
        except ValueError as error:
            return LocalSolution(step.iteration, np.zeros(0), 0.0, False, str(error))
        self.x = x
        return LocalSolution(step.iteration, x, float(cost), True, "")

    def result(self) -> np.ndarray:
        return self.x.copy()
