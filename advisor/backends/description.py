"""A backend known only by what determines its outputs, with no model loaded.

The driver of a Ray run hashes configurations (resume), prices compute and writes the manifest
from it, while each task loads the weights it answers with; so the driver never holds a model.
"""

from __future__ import annotations

from typing import Any

from advisor.backends.base import Backend, Completion, GenerationRequest
from advisor.errors import AdvisorError


class DescribedBackend(Backend):
    def __init__(self, *, name: str, model_id: str, batch_size: int, identity: dict[str, Any], device: str,
                 dtype_name: str | None = None, weights_hash: str | None = None, supports_weights: bool = False,
                 supports_loglikelihood: bool = False):
        super().__init__(model_id, batch_size=batch_size)
        self.name = name
        self.device = device
        self.dtype_name = dtype_name
        self.weights_hash = weights_hash
        self.supports_weights = supports_weights
        self.supports_loglikelihood = supports_loglikelihood
        self._identity = identity

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        raise AdvisorError(f"backend {self.name!r} for {self.model_id} is only described here; "
                           "its weights are loaded where the strategies run")
