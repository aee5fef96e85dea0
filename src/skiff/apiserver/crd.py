"""CustomResourceDefinitions: their validation, their status, and the resources they serve.

Shaped after k8s.io/apiextensions-apiserver: ``pkg/apis/apiextensions/validation`` (what a CRD
must satisfy), ``pkg/controller/status`` (the NamingConditionController: ``acceptedNames``,
``NamesAccepted`` and ``Established``), ``pkg/apiserver/customresource_handler.go`` (one served
resource per served version, installed as CRDs come and go) and ``pkg/controller/finalizer``
(the ``customresourcecleanup.apiextensions.k8s.io`` finalizer).

``CustomResources`` is the dynamic part of the API server's resource table: the
``ResourceInfo`` of every served version of every established CRD, with a ``CustomKind`` as
``ResourceInfo.custom`` (schemas, printer columns, scale paths). It follows the CRDs in the watch
cache (``run``) and is also synced on demand (``sync``) so a request right after a CRD write sees
it; on each change it installs or removes routes, and discovery and OpenAPI read ``resources()``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skiff.api import resources as kinds
from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo, Subresource
from skiff.api.validation.names import is_dns1035_label, is_dns1123_subdomain
from skiff.apiserver import objects

__all__ = [
    "CLEANUP_FINALIZER",
    "CRD_GROUP",
    "CustomKind",
    "CustomResources",
    "CustomVersion",
    "crd_info",
    "custom_kind",
    "names_status",
    "served_infos",
    "validate_crd",
    "validate_crd_update",
    "version_priority",
]

log = logging.getLogger(__name__)

CRD_GROUP = "apiextensions.k8s.io"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_SCOPES = ("Cluster", "Namespaced")


def crd_info() -> ResourceInfo:
    info = kinds.by_resource(CRD_GROUP, "v1", "customresourcedefinitions")
    assert info is not None
    return info


# ----------------------------------------------------------------------------- the CRD itself


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def validate_crd(obj: dict[str, Any]) -> list[FieldError]:
    """Field errors of a CRD (``ValidateCustomResourceDefinition``), worded as upstream."""
    from skiff.apiserver.crdschema import check_schema

    errors: list[FieldError] = []
    spec = _spec(obj)
    meta = obj.get("metadata") or {}
    group = spec.get("group") or ""
    names = spec.get("names") or {}
    plural = names.get("plural") or ""
    name = meta.get("name") or ""
    if name != f"{plural}.{group}":
        errors.append(
            FieldError.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
        )
    if not group:
        errors.append(FieldError.required("spec.group", ""))
    else:
        for msg in is_dns1123_subdomain(group):
            errors.append(FieldError.invalid("spec.group", group, msg))
        if "." not in group:
            errors.append(
                FieldError.invalid("spec.group", group, "should be a domain with at least one dot")
            )
    scope = spec.get("scope")
    if not scope:
        errors.append(FieldError.required("spec.scope", ""))
    elif scope not in _SCOPES:
        errors.append(FieldError.not_supported("spec.scope", scope, list(_SCOPES)))
    errors += _validate_names(names, "spec.names")
    if spec.get("preserveUnknownFields"):
        errors.append(
            FieldError.invalid(
                "spec.preserveUnknownFields",
                True,
                "must be false in order to use defaults in the schema",
            )
        )
    conversion = spec.get("conversion") or {}
    strategy = conversion.get("strategy") if isinstance(conversion, dict) else None
    if strategy is not None and strategy not in ("None", "Webhook"):
        errors.append(
            FieldError.not_supported("spec.conversion.strategy", strategy, ["None", "Webhook"])
        )
    if strategy == "Webhook" and not conversion.get("webhook"):
        errors.append(
            FieldError.required(
                "spec.conversion.webhook", "required when strategy is set to Webhook"
            )
        )
    errors += _validate_versions(spec.get("versions"), check_schema)
    errors += _validate_approval(group, meta)
    return errors


_APPROVAL = "api-approved.kubernetes.io"


def _protected(group: str) -> bool:
    return group in ("k8s.io", "kubernetes.io") or group.endswith((".k8s.io", ".kubernetes.io"))


def _validate_approval(group: str, meta: Mapping[str, Any]) -> list[FieldError]:
    """A CRD in a Kubernetes-owned group (``*.k8s.io``, ``*.kubernetes.io``) must carry the
    ``api-approved.kubernetes.io`` annotation (KEP-1111), as upstream requires."""
    if not _protected(group):
        return []
    annotations = meta.get("annotations") or {}
    if _APPROVAL in annotations:
        return []
    return [
        FieldError.required(
            f"metadata.annotations[{_APPROVAL}]",
            f'protected groups must have approval annotation "{_APPROVAL}", see '
            "https://github.com/kubernetes/enhancements/pull/1111",
        )
    ]


def _validate_names(names: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    plural = names.get("plural") or ""
    if not plural:
        errors.append(FieldError.required(f"{path}.plural", ""))
    for key in ("plural", "singular"):
        value = names.get(key) or ""
        if value:
            bad = is_dns1035_label(value)
            if bad:
                errors.append(FieldError.invalid(f"{path}.{key}", value, ",".join(bad)))
    for i, short in enumerate(names.get("shortNames") or []):
        bad = is_dns1035_label(str(short))
        if bad:
            errors.append(FieldError.invalid(f"{path}.shortNames[{i}]", short, ",".join(bad)))
    kind = names.get("kind") or ""
    list_kind = names.get("listKind") or ""
    if not kind:
        errors.append(FieldError.required(f"{path}.kind", ""))
    for key, value in (("kind", kind), ("listKind", list_kind)):
        if value:
            bad = is_dns1035_label(value.lower())
            if bad:
                errors.append(FieldError.invalid(f"{path}.{key}", value, ",".join(bad)))
    if kind and list_kind and kind == list_kind:
        errors.append(
            FieldError.invalid(
                f"{path}.listKind", list_kind, "kind and listKind may not be the same"
            )
        )
    for i, cat in enumerate(names.get("categories") or []):
        bad = is_dns1035_label(str(cat))
        if bad:
            errors.append(FieldError.invalid(f"{path}.categories[{i}]", cat, ",".join(bad)))
    return errors


def _validate_versions(
    versions: Any, check_schema: Callable[[Any, str], list[FieldError]]
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(versions, list) or not versions:
        return [
            FieldError.required(
                "spec.versions", "must have exactly one version marked as storage version"
            )
        ]
    seen: set[str] = set()
    storage = served = 0
    for i, v in enumerate(versions):
        path = f"spec.versions[{i}]"
        if not isinstance(v, dict):
            errors.append(FieldError.invalid(path, v, "must be an object"))
            continue
        name = str(v.get("name") or "")
        if not name:
            errors.append(FieldError.required(f"{path}.name", ""))
        else:
            for msg in is_dns1035_label(name):
                errors.append(FieldError.invalid(f"{path}.name", name, msg))
            if name in seen:
                errors.append(FieldError.duplicate(f"{path}.name", name))
            seen.add(name)
        storage += bool(v.get("storage"))
        served += bool(v.get("served"))
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            errors.append(
                FieldError.required(f"{path}.schema.openAPIV3Schema", "schemas are required")
            )
        else:
            errors += check_schema(schema, f"{path}.schema.openAPIV3Schema")
        scale = (v.get("subresources") or {}).get("scale")
        if isinstance(scale, dict):
            for key in ("specReplicasPath", "statusReplicasPath"):
                p = scale.get(key)
                if not isinstance(p, str) or not p.startswith("."):
                    errors.append(
                        FieldError.invalid(
                            f"{path}.subresources.scale.{key}",
                            p,
                            "should be a json path under .spec"
                            if key == "specReplicasPath"
                            else "should be a json path under .status",
                        )
                    )
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            cpath = f"{path}.additionalPrinterColumns[{j}]"
            if not isinstance(col, dict):
                continue
            if col.get("type") not in ("integer", "number", "string", "boolean", "date"):
                errors.append(
                    FieldError.not_supported(
                        f"{cpath}.type",
                        col.get("type"),
                        ["boolean", "date", "integer", "number", "string"],
                    )
                )
    if storage != 1:
        errors.append(
            FieldError.invalid(
                "spec.versions", versions, "must have exactly one version marked as storage version"
            )
        )
    if served == 0:
        errors.append(
            FieldError.invalid(
                "spec.versions", versions, "must have at least one version marked as served"
            )
        )
    return errors


def validate_crd_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """``validate_crd`` plus what may not change: the scope (the group and plural are held by
    the immutable name). A CRD stored without the approval annotation keeps being accepted."""
    errors = validate_crd(new)
    if _validate_approval(str(_spec(old).get("group") or ""), old.get("metadata") or {}):
        errors = [e for e in errors if _APPROVAL not in e.field]
    errors = [e for e in errors if not _tolerated_cost(e, new, old)]
    scope = _spec(new).get("scope")
    if scope != _spec(old).get("scope"):
        errors.append(FieldError.invalid("spec.scope", scope, "field is immutable"))
    # objects may still be stored in every version listed in status.storedVersions
    names = {v.get("name") for v in _spec(new).get("versions") or [] if isinstance(v, dict)}
    stored = (new.get("status") or {}).get("storedVersions") or []
    for i, version in enumerate(stored):
        if version not in names:
            errors.append(
                FieldError.invalid(
                    f"status.storedVersions[{i}]", version, "must appear in spec.versions"
                )
            )
    return errors


_PER_EXPRESSION_COST = ("estimated rule cost exceeds", "estimated messageExpression cost exceeds")


def _tolerated_cost(error: FieldError, new: dict[str, Any], old: dict[str, Any]) -> bool:
    """A rule's own cost is not held against a version whose schema the update leaves as it
    was (upstream's ``suppressPerExpressionCost``), so a CRD stored before keeps taking
    updates; the CRD-wide total still counts."""
    if not error.detail.startswith(_PER_EXPRESSION_COST):
        return False
    found = re.match(r"spec\.versions\[(\d+)\]\.schema\.", error.field)
    versions = _spec(new).get("versions") or []
    if found is None or int(found.group(1)) >= len(versions):
        return False
    version = versions[int(found.group(1))]
    before = {
        v.get("name"): v.get("schema")
        for v in _spec(old).get("versions") or []
        if isinstance(v, dict)
    }
    return isinstance(version, dict) and before.get(version.get("name"), _NONE) == version.get(
        "schema"
    )


_NONE = object()


# ----------------------------------------------------------------------------- names, status


def _condition(type_: str, status: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _set_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    for i, c in enumerate(conditions):
        if c.get("type") == cond["type"]:
            if c.get("status") == cond["status"]:
                cond = {**cond, "lastTransitionTime": c.get("lastTransitionTime")}
            conditions[i] = cond
            break
    else:
        conditions.append(cond)
    status["conditions"] = conditions


def _taken_names(info: ResourceInfo) -> set[str]:
    return {info.plural, info.singular_name, info.kind.lower(), *info.short_names}


def names_status(crd: dict[str, Any], others: list[dict[str, Any]], now: str) -> None:
    """Set ``status.acceptedNames`` and the NamesAccepted / Established conditions of ``crd``
    (the NamingConditionController): its names must not clash with a built-in resource of its
    group or with another CRD's accepted names in its group."""
    spec = _spec(crd)
    group = spec.get("group") or ""
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind") or "").lower())
    names.setdefault("listKind", f"{names.get('kind')}List")
    status = crd.get("status")
    if not isinstance(status, dict):
        status = crd["status"] = {}
    conflict = ""
    used_plural: set[str] = set()
    used_other: set[str] = set()
    used_kinds: set[str] = set()
    for r in kinds.RESOURCES:
        if r.group == group:
            used_plural.add(r.plural)
            used_other.update(_taken_names(r))
            used_kinds.update((r.kind, r.list_kind))
    my_name = (crd.get("metadata") or {}).get("name")
    for other in others:
        if (other.get("metadata") or {}).get("name") == my_name:
            continue
        ospec = _spec(other)
        if ospec.get("group") != group:
            continue
        accepted = (other.get("status") or {}).get("acceptedNames") or {}
        if accepted.get("plural"):
            used_plural.add(accepted["plural"])
        for key in ("singular",):
            if accepted.get(key):
                used_other.add(accepted[key])
        used_other.update(accepted.get("shortNames") or [])
        used_kinds.update(k for k in (accepted.get("kind"), accepted.get("listKind")) if k)
    if names.get("plural") in used_plural:
        conflict = f'"{names.get("plural")}" is already in use'
    elif names.get("singular") in used_plural | used_other:
        conflict = f'"{names.get("singular")}" is already in use'
    elif any(s in used_plural | used_other for s in names.get("shortNames") or []):
        taken = [s for s in names.get("shortNames") or [] if s in used_plural | used_other]
        conflict = f'"{taken[0]}" is already in use'
    elif names.get("kind") in used_kinds:
        conflict = f'"{names.get("kind")}" is already in use'
    elif names.get("listKind") in used_kinds:
        conflict = f'"{names.get("listKind")}" is already in use'
    if conflict:
        status.setdefault("acceptedNames", {"plural": "", "kind": ""})
        _set_condition(status, _condition("NamesAccepted", "False", "NameConflict", conflict, now))
        if not _is_true(status, "Established"):
            _set_condition(
                status,
                _condition(
                    "Established", "False", "NotAccepted", "not all names are accepted", now
                ),
            )
    else:
        status["acceptedNames"] = {
            k: names[k]
            for k in ("plural", "singular", "shortNames", "kind", "listKind", "categories")
            if names.get(k)
        }
        _set_condition(
            status, _condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", now)
        )
        _set_condition(
            status,
            _condition(
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
                now,
            ),
        )
    conversion = spec.get("conversion") or {}
    if isinstance(conversion, dict) and conversion.get("strategy") == "Webhook":
        # accepted, but said plainly: skiff calls no webhooks, versions differ by apiVersion only
        _set_condition(
            status,
            _condition(
                "ConversionWebhookSupported",
                "False",
                "NotSupported",
                "skiff does not call conversion webhooks: objects are converted between versions as with strategy None (only apiVersion changes)",
                now,
            ),
        )
    else:
        status["conditions"] = [
            c
            for c in status.get("conditions") or []
            if not (isinstance(c, dict) and c.get("type") == "ConversionWebhookSupported")
        ]
    stored = list(status.get("storedVersions") or [])
    for v in spec.get("versions") or []:
        if isinstance(v, dict) and v.get("storage") and v.get("name") not in stored:
            stored.append(v["name"])
    status["storedVersions"] = stored


def _is_true(status: Mapping[str, Any], type_: str) -> bool:
    return any(
        isinstance(c, dict) and c.get("type") == type_ and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


# ----------------------------------------------------------------------------- served kinds


@dataclass(frozen=True)
class CustomVersion:
    """What one version of a custom resource needs at request time."""

    name: str
    schema: dict[str, Any]
    status: bool = False
    scale: dict[str, Any] | None = None
    printer_columns: tuple[dict[str, Any], ...] = ()
    selectable_fields: tuple[str, ...] = ()
    deprecated: bool = False
    deprecation_warning: str = ""


@dataclass(frozen=True)
class CustomKind:
    """A custom resource as its CRD defines it (shared by the ``ResourceInfo`` of each of its
    served versions through ``ResourceInfo.custom``)."""

    crd_name: str
    group: str
    kind: str
    list_kind: str
    plural: str
    namespaced: bool
    storage_version: str
    versions: Mapping[str, CustomVersion]
    terminating: bool = False
    revision: str = ""  # the CRD's resourceVersion (what cached documents are keyed by)
    _patch: dict[str, Any] = field(default_factory=dict, compare=False)

    def version(self, name: str) -> CustomVersion:
        return self.versions.get(name) or self.versions[self.storage_version]

    def patch_schema(self, version: str) -> Any:
        """The patch/apply schema of ``version`` (built once), from its OpenAPI schema."""
        found = self._patch.get(version)
        if found is None:
            from skiff.apiserver.crdpatch import patch_schema_from_openapi

            found = self._patch[version] = patch_schema_from_openapi(self.version(version).schema)
        return found


def custom_kind(crd: Mapping[str, Any]) -> CustomKind:
    spec = _spec(crd)
    names = (crd.get("status") or {}).get("acceptedNames") or spec.get("names") or {}
    versions: dict[str, CustomVersion] = {}
    storage = ""
    for v in spec.get("versions") or []:
        if not isinstance(v, dict):
            continue
        subs = v.get("subresources") or {}
        versions[v["name"]] = CustomVersion(
            name=v["name"],
            schema=((v.get("schema") or {}).get("openAPIV3Schema")) or {},
            status=isinstance(subs.get("status"), dict),
            scale=subs.get("scale") if isinstance(subs.get("scale"), dict) else None,
            printer_columns=tuple(v.get("additionalPrinterColumns") or ()),
            selectable_fields=tuple(
                str(f.get("jsonPath"))
                for f in v.get("selectableFields") or []
                if isinstance(f, dict)
            ),
            deprecated=bool(v.get("deprecated")),
            deprecation_warning=str(v.get("deprecationWarning") or ""),
        )
        if v.get("storage"):
            storage = v["name"]
    kind = str(names.get("kind") or "")
    return CustomKind(
        crd_name=str((crd.get("metadata") or {}).get("name") or ""),
        group=str(spec.get("group") or ""),
        kind=kind,
        list_kind=str(names.get("listKind") or f"{kind}List"),
        plural=str(names.get("plural") or ""),
        namespaced=spec.get("scope") == "Namespaced",
        storage_version=storage,
        versions=versions,
        terminating=bool((crd.get("metadata") or {}).get("deletionTimestamp")),
        revision=str((crd.get("metadata") or {}).get("resourceVersion") or ""),
    )


_SCALE = Subresource("scale", "Scale", "autoscaling", "v1")


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' order (``v2``, ``v1``, ``v1beta2``,
    ``v1beta1``, ``v1alpha1``, then other names alphabetically): apimachinery's
    ``CompareKubeAwareVersionStrings``."""
    m = _KUBE_VERSION.match(name)
    if m is None:
        return (3, 0, 0, name)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, name)


def served_infos(crd: Mapping[str, Any]) -> tuple[ResourceInfo, ...]:
    """The ``ResourceInfo`` of each served version of an established CRD (none otherwise)."""
    status = crd.get("status") or {}
    if not _is_true(status, "Established"):
        return ()
    ck = custom_kind(crd)
    names = status.get("acceptedNames") or {}
    out: list[ResourceInfo] = []
    versions = [v for v in _spec(crd).get("versions") or [] if isinstance(v, dict)]
    versions.sort(key=lambda v: version_priority(str(v.get("name") or "")))
    for v in versions:
        if not isinstance(v, dict) or not v.get("served"):
            continue
        cv = ck.versions[v["name"]]
        subs: list[Subresource] = []
        if cv.status:
            subs.append(Subresource("status", ck.kind))
        if cv.scale is not None:
            subs.append(_SCALE)
        out.append(
            ResourceInfo(
                group=ck.group,
                version=cv.name,
                kind=ck.kind,
                plural=ck.plural,
                namespaced=ck.namespaced,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(subs),
                converts_to="" if cv.name == ck.storage_version else ck.storage_version,
                has_status=cv.status,
                singular=str(names.get("singular") or ck.kind.lower()),
                custom=ck,
            )
        )
    return tuple(out)


class CustomResources:
    """The served custom resources, kept in step with the stored CRDs.

    ``on_change(removed, added)`` is called with the ``ResourceInfo`` tuples that left and came
    (the app installs and removes routes, the registry forgets strategies)."""

    def __init__(
        self,
        on_change: Callable[[tuple[ResourceInfo, ...], tuple[ResourceInfo, ...]], None]
        | None = None,
    ) -> None:
        self._on_change = on_change
        self._versions: dict[str, str] = {}  # CRD name -> resourceVersion last synced
        self._infos: dict[str, tuple[ResourceInfo, ...]] = {}
        self._crds: dict[str, dict[str, Any]] = {}
        self._resources: tuple[ResourceInfo, ...] = ()
        self._by_dir: dict[tuple[str, str], ResourceInfo] = {}
        self._lock = asyncio.Lock()

    def set_on_change(
        self, on_change: Callable[[tuple[ResourceInfo, ...], tuple[ResourceInfo, ...]], None]
    ) -> None:
        self._on_change = on_change

    def resources(self) -> tuple[ResourceInfo, ...]:
        """Every served custom resource version, CRDs in name order."""
        return self._resources

    def storage_info_for_key(self, key: str) -> ResourceInfo | None:
        """The custom resource (in its storage version) a storage key belongs to, if any."""
        if not self._by_dir or not key.startswith(objects.ROOT):
            return None
        group, _, rest = key[len(objects.ROOT) :].partition("/")
        return self._by_dir.get((group, rest.partition("/")[0]))

    def crds(self) -> list[dict[str, Any]]:
        """The CRDs last synced (not to be mutated)."""
        return list(self._crds.values())

    def update(self, crds: list[dict[str, Any]]) -> bool:
        """Take the current list of CRDs; returns whether the served set changed."""
        current = {str((c.get("metadata") or {}).get("name") or ""): c for c in crds}
        versions = {
            n: str((c.get("metadata") or {}).get("resourceVersion") or "")
            for n, c in current.items()
        }
        if versions == self._versions:
            return False
        removed: list[ResourceInfo] = []
        added: list[ResourceInfo] = []
        infos: dict[str, tuple[ResourceInfo, ...]] = {}
        for name, crd in current.items():
            if self._versions.get(name) == versions[name]:
                infos[name] = self._infos.get(name, ())
                continue
            infos[name] = served_infos(crd)
            removed.extend(self._infos.get(name, ()))
            added.extend(infos[name])
        for name in set(self._infos) - set(current):
            removed.extend(self._infos[name])
        self._versions, self._infos, self._crds = versions, infos, current
        self._resources = tuple(i for n in sorted(infos) for i in infos[n])
        by_dir: dict[tuple[str, str], ResourceInfo] = {}
        for info in self._resources:
            if info.is_storage_version or (info.group, info.plural) not in by_dir:
                by_dir[(info.group, info.plural)] = info
        self._by_dir = by_dir
        if (removed or added) and self._on_change is not None:
            self._on_change(tuple(removed), tuple(added))
        return True

    async def sync(self, cache: Any, decode: Callable[[Any], dict[str, Any]]) -> None:
        """List the CRDs from the watch cache and take them."""
        async with self._lock:
            result = await cache.list(objects.collection_prefix(crd_info(), None))
            if self._unchanged(result.items):
                return  # (CRDs can be large: decode them only when one changed)
            self.update([decode(kv) for kv in result.items])

    def _unchanged(self, items: Any) -> bool:
        current = {kv.key.rpartition("/")[2]: str(kv.mod_revision) for kv in items}
        return current == self._versions

    async def run(
        self,
        cache: Any,
        decode: Callable[[Any], dict[str, Any]],
        on_crds: Callable[[list[dict[str, Any]]], Awaitable[bool]] | None = None,
        *,
        retry: float = 0.5,
    ) -> None:
        """Follow the CRDs in the watch cache until cancelled. ``on_crds`` is awaited with the
        CRD list after each change (the cleanup of terminating CRDs); while it answers True
        (work left) it is called again every ``retry`` seconds."""
        prefix = objects.collection_prefix(crd_info(), None)
        while True:
            try:
                result = await cache.list(prefix)
                async with self._lock:
                    self.update([decode(kv) for kv in result.items])
                pending = await on_crds(self.crds()) if on_crds is not None else False
                async with cache.watch(prefix, revision=result.revision) as stream:
                    while True:
                        if pending:
                            try:
                                batch = await asyncio.wait_for(stream.next_batch(), retry)
                            except TimeoutError:
                                batch = []
                        else:
                            batch = await stream.next_batch()
                            if not batch and getattr(stream, "closed", False):
                                return
                        if batch:
                            async with self._lock:
                                listed = await cache.list(prefix)
                                self.update([decode(kv) for kv in listed.items])
                        if on_crds is not None:
                            pending = await on_crds(self.crds())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following CustomResourceDefinitions failed; listing again")
                await asyncio.sleep(1)
