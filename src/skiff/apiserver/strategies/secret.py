"""Secrets: the write-only ``stringData`` is folded into ``data`` on create and update.

Kubernetes: pkg/apis/core/v1/conversion.go (``Convert_v1_Secret_To_core_Secret`` merges
stringData into data; the API server never stores or returns stringData).
"""

from __future__ import annotations

import base64
from typing import Any

from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = ["SecretStrategy", "merge_string_data"]


def merge_string_data(secret: dict[str, Any]) -> None:
    """Fold a Secret's write-only ``stringData`` into ``data`` (base64), as Kubernetes does."""
    string_data = secret.pop("stringData", None)
    if not string_data:
        return
    data = dict(secret.get("data") or {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    secret["data"] = data


class SecretStrategy(DefaultStrategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        merge_string_data(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        merge_string_data(new)
        super().prepare_for_update(new, old)
