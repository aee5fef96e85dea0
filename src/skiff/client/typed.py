"""Typed access on top of ``Client``: pydantic models in, pydantic models out.

``TypedClient(client)`` takes and returns the models of ``skiff.api.types`` (``Pod``,
``Deployment``, ...), so callers get attribute access and static types::

    typed = TypedClient(client)
    deploy = await typed.get(Deployment, "web", namespace="default")
    deploy.spec.replicas = 3
    await typed.update(deploy)

The resource is found from the model's ``x-kubernetes-group-version-kind``. Responses are
validated leniently (fields this version of skiff does not know are ignored rather than
rejected), so a newer server never breaks an older client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from skiff.api.resources import ResourceInfo
from skiff.api.types import KubeModel, field_shape
from skiff.client._client import Client, PatchType, Preconditions
from skiff.client.resource import resolve

__all__ = ["TypedClient", "resource_of"]

M = TypeVar("M", bound=KubeModel)


def resource_of(model: type[KubeModel]) -> ResourceInfo:
    """The served resource of a top-level kind's model; ``LookupError`` for nested models."""
    extra = model.model_config.get("json_schema_extra")
    gvks = extra.get("x-kubernetes-group-version-kind") if isinstance(extra, Mapping) else None
    if not isinstance(gvks, list) or not gvks or not isinstance(gvks[0], Mapping):
        raise LookupError(f"{model.__name__} is not a top-level kind (no group/version/kind)")
    gvk = gvks[0]
    group, version, kind = str(gvk["group"]), str(gvk["version"]), str(gvk["kind"])
    return resolve((f"{group}/{version}" if group else version, kind))


def _load(model: type[M], data: Mapping[str, Any]) -> M:
    # lenient on purpose: extra="forbid" guards what clients send, not what servers answer
    return model.model_validate(_known(model, data))


def _known(model: type[KubeModel], data: Any) -> Any:
    """``data`` without the keys ``model`` has no field for, recursively."""
    if not isinstance(data, Mapping):
        return data
    fields = {f.alias or n: f for n, f in model.model_fields.items()}
    out: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            continue
        out[key] = _known_value(field.annotation, value)
    return out


def _known_value(annotation: Any, value: Any) -> Any:
    container, inner = field_shape(annotation)
    if inner is None:
        return value
    if container == "list" and isinstance(value, list):
        return [_known(inner, v) for v in value]
    if container == "map" and isinstance(value, Mapping):
        return {k: _known(inner, v) for k, v in value.items()}
    return _known(inner, value) if container == "model" else value


def _wire(obj: KubeModel) -> dict[str, Any]:
    data = obj.to_wire()
    info = resource_of(type(obj))
    data["apiVersion"], data["kind"] = info.api_version, info.kind
    return data


class TypedClient:
    """Model-typed verbs over a ``Client`` (which stays usable for everything else)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def get(self, model: type[M], name: str, *, namespace: str | None = None) -> M:
        return _load(model, await self.client.get(resource_of(model), name, namespace=namespace))

    async def list(
        self,
        model: type[M],
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[M]:
        """Every matching object (follows continue tokens)."""
        listing = await self.client.list_all(
            resource_of(model),
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
        )
        return [_load(model, item) for item in listing.get("items") or []]

    async def create(
        self,
        obj: M,
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> M:
        created = await self.client.create(
            resource_of(type(obj)),
            _wire(obj),
            namespace=namespace,
            field_manager=field_manager,
            dry_run=dry_run,
        )
        return _load(type(obj), created)

    async def update(self, obj: M, *, field_manager: str | None = None, dry_run: bool = False) -> M:
        """PUT ``obj``; its ``metadata.resourceVersion`` (if set) makes it conditional."""
        updated = await self.client.update(
            resource_of(type(obj)), _wire(obj), field_manager=field_manager, dry_run=dry_run
        )
        return _load(type(obj), updated)

    async def update_status(self, obj: M) -> M:
        updated = await self.client.update_status(resource_of(type(obj)), _wire(obj))
        return _load(type(obj), updated)

    async def patch(
        self,
        model: type[M],
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
    ) -> M:
        patched = await self.client.patch(
            resource_of(model),
            name,
            patch,
            namespace=namespace,
            patch_type=patch_type,
            field_manager=field_manager,
        )
        return _load(model, patched)

    async def apply(self, obj: M, *, field_manager: str, force: bool = False) -> M:
        """Server-side apply of ``obj`` (only the fields set on it are applied)."""
        meta = obj.to_wire().get("metadata") or {}
        name = meta.get("name")
        if not name:
            raise ValueError("apply needs metadata.name")
        applied = await self.client.patch(
            resource_of(type(obj)),
            str(name),
            _wire(obj),
            namespace=meta.get("namespace"),
            patch_type="apply",
            field_manager=field_manager,
            force=force,
        )
        return _load(type(obj), applied)

    async def delete(
        self,
        model: type[KubeModel],
        name: str,
        *,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        preconditions: Preconditions | None = None,
    ) -> None:
        await self.client.delete(
            resource_of(model),
            name,
            namespace=namespace,
            grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy,
            preconditions=preconditions,
        )
