"""Jobs: unless ``spec.manualSelector``, the selector is generated from the Job's uid.

Kubernetes: pkg/registry/batch/job/strategy.go ``PrepareForCreate`` -> ``generateSelector``.
"""

from __future__ import annotations

from typing import Any

from skiff.api.defaults import generate_job_selector
from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = ["JobStrategy"]


class JobStrategy(DefaultStrategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        generate_job_selector(obj)
