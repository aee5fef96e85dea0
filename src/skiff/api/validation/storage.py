"""PersistentVolume, PersistentVolumeClaim (core/v1) and StorageClass (storage.k8s.io/v1) rules.

As kubernetes/kubernetes ``pkg/apis/core/validation/validation.go`` (``ValidatePersistentVolume``,
``ValidatePersistentVolumeClaim`` and their updates) and ``pkg/apis/storage/validation`` at
v1.32. Provisioning and binding are not done yet, so only what a client writes is checked; the
per-source field rules of the deprecated in-tree plugins are not (their required fields are
enforced by the schema).
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_label_selector
from ._util import ErrorList, as_dict, as_list, immutable, parse_quantity, semantic_equal
from .names import is_dns1123_subdomain, is_qualified_name

__all__ = [
    "validate_persistent_volume",
    "validate_persistent_volume_claim",
    "validate_persistent_volume_claim_update",
    "validate_persistent_volume_update",
    "validate_storage_class",
    "validate_storage_class_update",
]

_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_VOLUME_MODES = ["Block", "Filesystem"]
_PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
_SC_RECLAIM_POLICIES = ["Delete", "Retain"]
_BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
# the sources a PersistentVolume may have, in the order Kubernetes checks them
PV_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)
_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_NOT_POSITIVE = "must be greater than zero"
_MAX_PARAMETERS = 512
_MAX_PARAMETERS_SIZE = 256 * (1 << 10)


def _access_modes(modes: Any, path: str, required_detail: str) -> ErrorList:
    modes = as_list(modes)
    if not modes:
        return [FieldError.required(path, required_detail)]
    errs = [
        FieldError.not_supported(path, m, _ACCESS_MODES) for m in modes if m not in _ACCESS_MODES
    ]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.append(
            FieldError.forbidden(path, "may not use ReadWriteOncePod with other access modes")
        )
    return errs


def _class_name(value: Any, path: str) -> ErrorList:
    if not isinstance(value, str) or not value:
        return []
    return [FieldError.invalid(path, value, m) for m in is_dns1123_subdomain(value)]


def _volume_mode(value: Any, path: str) -> ErrorList:
    if value is not None and value not in _VOLUME_MODES:
        return [FieldError.not_supported(path, value, _VOLUME_MODES)]
    return []


def _positive_quantity(value: Any, path: str) -> ErrorList:
    parsed = parse_quantity(value)
    if parsed is not None and parsed <= 0:
        return [FieldError.invalid(path, value, _NOT_POSITIVE)]
    return []


# --- PersistentVolume ------------------------------------------------------------------------


def _pv_spec(spec: dict[str, Any], path: str) -> ErrorList:
    errs = _access_modes(spec.get("accessModes"), f"{path}.accessModes", "")
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        errs.append(FieldError.required(f"{path}.capacity"))
    if "storage" not in capacity or len(capacity) > 1:
        errs.append(FieldError.not_supported(f"{path}.capacity", capacity, ["storage"]))
    for name, quantity in capacity.items():
        errs += _positive_quantity(quantity, f"{path}.capacity[{name}]")
    errs += _class_name(spec.get("storageClassName"), f"{path}.storageClassName")
    errs += _volume_mode(spec.get("volumeMode"), f"{path}.volumeMode")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in _PV_RECLAIM_POLICIES:
        errs.append(
            FieldError.not_supported(
                f"{path}.persistentVolumeReclaimPolicy", policy, _PV_RECLAIM_POLICIES
            )
        )
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    for extra in sources[1:]:
        errs.append(
            FieldError.forbidden(f"{path}.{extra}", "may not specify more than 1 volume type")
        )
    if not sources:
        errs.append(FieldError.required(path, "must specify a volume type"))
    host_path = as_dict(spec.get("hostPath"))
    if spec.get("hostPath") is not None:
        where = host_path.get("path")
        if not where:
            errs.append(FieldError.required(f"{path}.hostPath.path"))
        elif posixpath.normpath(where) == "/" and policy == "Recycle":
            errs.append(
                FieldError.forbidden(
                    f"{path}.persistentVolumeReclaimPolicy",
                    "may not be 'recycle' for a hostPath mount of '/'",
                )
            )
    if spec.get("local") is not None:
        if not as_dict(spec.get("local")).get("path"):
            errs.append(FieldError.required(f"{path}.local.path"))
        if spec.get("nodeAffinity") is None:
            errs.append(
                FieldError.required(f"{path}.nodeAffinity", "Local volume requires node affinity")
            )
    return errs


def validate_persistent_volume(obj: dict[str, Any]) -> ErrorList:
    """``ValidatePersistentVolume``: access modes, a storage capacity, exactly one source."""
    return _pv_spec(as_dict(obj.get("spec")), "spec")


def validate_persistent_volume_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """``ValidatePersistentVolumeUpdate``: the source and volume mode are immutable, node
    affinity may only be set once."""
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs: ErrorList = []
    if any(not semantic_equal(spec.get(s), old_spec.get(s)) for s in PV_SOURCES):
        errs.append(
            FieldError.forbidden(
                "spec.persistentvolumesource",
                "spec.persistentvolumesource is immutable after creation",
            )
        )
    errs += immutable(spec.get("volumeMode"), old_spec.get("volumeMode"), "volumeMode")
    if old_spec.get("nodeAffinity") is not None:
        errs += immutable(spec.get("nodeAffinity"), old_spec.get("nodeAffinity"), "nodeAffinity")
    return errs


# --- PersistentVolumeClaim -------------------------------------------------------------------


def _pvc_spec(spec: dict[str, Any], path: str) -> ErrorList:
    errs = _access_modes(
        spec.get("accessModes"), f"{path}.accessModes", "at least 1 access mode is required"
    )
    if spec.get("selector") is not None:
        errs += validate_label_selector(spec.get("selector"), f"{path}.selector")
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        errs.append(FieldError.required(f"{path}.resources[storage]"))
    else:
        errs += _positive_quantity(requests["storage"], f"{path}.resources[storage]")
    errs += _class_name(spec.get("storageClassName"), f"{path}.storageClassName")
    errs += _volume_mode(spec.get("volumeMode"), f"{path}.volumeMode")
    return errs


def validate_persistent_volume_claim(obj: dict[str, Any]) -> ErrorList:
    """``ValidatePersistentVolumeClaim``: access modes and a positive storage request."""
    return _pvc_spec(as_dict(obj.get("spec")), "spec")


def validate_persistent_volume_claim_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """``ValidatePersistentVolumeClaimUpdate``: the spec is immutable, except that volumeName
    may be set once, a class may be set where none was, and a bound claim may grow."""
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    new_clone, old_clone = copy.deepcopy(spec), copy.deepcopy(old_spec)
    if not old_spec.get("volumeName"):
        old_clone["volumeName"] = new_clone.get("volumeName")
    old_annotations = as_dict(as_dict(old.get("metadata")).get("annotations"))
    if old_spec.get("storageClassName") is None and _BETA_CLASS_ANNOTATION not in old_annotations:
        # retroactive default StorageClass (GA in 1.28): a class may be set once
        old_clone["storageClassName"] = new_clone.get("storageClassName")
    old_clone["volumeAttributesClassName"] = new_clone.get("volumeAttributesClassName")
    requests = as_dict(as_dict(new_clone.get("resources")).get("requests"))
    old_requests = as_dict(as_dict(old_spec.get("resources")).get("requests"))
    bound = as_dict(new.get("status")).get("phase") == "Bound"
    if bound and "storage" in requests:
        requests["storage"] = old_requests.get("storage")
    errs: ErrorList = []
    if not semantic_equal(new_clone, old_clone):
        errs.append(
            FieldError.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and "
                "volumeAttributesClassName for bound claims",
            )
        )
    new_size = parse_quantity(
        as_dict(as_dict(spec.get("resources")).get("requests")).get("storage")
    )
    old_size = parse_quantity(old_requests.get("storage"))
    if new_size is not None and old_size is not None and new_size < old_size:
        errs.append(
            FieldError.forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    return errs


# --- StorageClass ----------------------------------------------------------------------------


def _parameters(params: Any, path: str) -> ErrorList:
    params = as_dict(params)
    if len(params) > _MAX_PARAMETERS:
        return [
            FieldError.too_long(
                path, "Provisioner Parameters exceeded max allowed", _MAX_PARAMETERS
            )
        ]
    errs = [FieldError.invalid(path, k, "field can not be empty.") for k in params if not k]
    size = sum(len(k) + len(str(v)) for k, v in params.items())
    if size > _MAX_PARAMETERS_SIZE:
        errs.append(FieldError.too_long(path, "", _MAX_PARAMETERS_SIZE))
    return errs


def _allowed_topologies(terms: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    for i, term in enumerate(as_list(terms)):
        expressions = as_list(as_dict(term).get("matchLabelExpressions"))
        term_path = f"{path}[{i}].matchLabelExpressions"
        if not expressions:
            errs.append(FieldError.forbidden(term_path, "must have at least one label expression"))
        keys: set[str] = set()
        for j, requirement in enumerate(expressions):
            requirement = as_dict(requirement)
            key = requirement.get("key") or ""
            req_path = f"{term_path}[{j}]"
            errs += [FieldError.invalid(f"{req_path}.key", key, m) for m in is_qualified_name(key)]
            if key in keys:
                errs.append(FieldError.duplicate(f"{req_path}.key", key))
            keys.add(key)
            if not as_list(requirement.get("values")):
                errs.append(
                    FieldError.required(
                        f"{req_path}.values", "must specify as least one value for key"
                    )
                )
    return errs


def validate_storage_class(obj: dict[str, Any]) -> ErrorList:
    """``ValidateStorageClass``: a provisioner, bounded parameters, known policies."""
    errs: ErrorList = []
    provisioner = obj.get("provisioner") or ""
    if not provisioner:
        errs.append(FieldError.required("provisioner"))
    else:
        errs += [
            FieldError.invalid("provisioner", provisioner.lower(), m)
            for m in is_qualified_name(provisioner.lower())
        ]
    errs += _parameters(obj.get("parameters"), "parameters")
    policy = obj.get("reclaimPolicy")
    if policy and policy not in _SC_RECLAIM_POLICIES:
        errs.append(FieldError.not_supported("reclaimPolicy", policy, _SC_RECLAIM_POLICIES))
    mode = obj.get("volumeBindingMode")
    if not mode:
        errs.append(FieldError.required("volumeBindingMode"))
    elif mode not in _BINDING_MODES:
        errs.append(FieldError.not_supported("volumeBindingMode", mode, _BINDING_MODES))
    errs += _allowed_topologies(obj.get("allowedTopologies"), "allowedTopologies")
    return errs


def validate_storage_class_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """``ValidateStorageClassUpdate``: parameters, provisioner, reclaim policy and binding mode
    are fixed once the class exists."""
    errs: ErrorList = []
    if not semantic_equal(new.get("parameters"), old.get("parameters")):
        errs.append(FieldError.forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        errs.append(FieldError.forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.append(
            FieldError.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
        )
    errs += immutable(
        new.get("volumeBindingMode"), old.get("volumeBindingMode"), "volumeBindingMode"
    )
    return errs
