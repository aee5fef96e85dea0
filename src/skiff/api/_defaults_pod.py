"""Defaulting of PodSpec and everything inside it (``pkg/apis/core/v1/defaults.go``).

``default_pod_spec`` is what every pod template gets (Deployment, Job, ...); ``default_pod``
adds the few defaults upstream applies only to real Pods, so templates stay as users wrote them
(see the warning in upstream ``SetDefaults_PodSpec`` about kubernetes/kubernetes#69445).
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.api._volume_sources import VOLUME_SOURCES

__all__ = [
    "DEFAULT_FILE_MODE",
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_TERMINATION_GRACE_PERIOD",
    "DEFAULT_TERMINATION_MESSAGE_PATH",
    "DEFAULT_TOKEN_EXPIRATION_SECONDS",
    "default_pod",
    "default_pod_spec",
    "default_pvc",
    "image_tag",
    "set_if_none",
    "set_if_unset",
    "subdict",
]

# core/v1 constants: SecretVolumeSourceDefaultMode etc. are all 0644.
DEFAULT_FILE_MODE = 0o644
DEFAULT_TERMINATION_GRACE_PERIOD = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600


def set_if_none(obj: dict[str, Any], key: str, value: Any) -> None:
    """Pointer-field defaulting: only a missing or ``null`` field is filled."""
    if obj.get(key) is None:
        obj[key] = copy.deepcopy(value)


def set_if_unset(obj: dict[str, Any], key: str, value: Any) -> None:
    """Value-field defaulting (Go strings/ints): ``""`` and ``0`` count as unset too."""
    current = obj.get(key)
    if current is None or current == "" or (current == 0 and not isinstance(current, bool)):
        obj[key] = copy.deepcopy(value)


def subdict(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``obj[key]`` when it is an object, else None (defaulting never invents parents)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def image_tag(image: str) -> str:
    """The tag ``parsers.ParseImageName`` reports: ``latest`` when neither tag nor digest is
    given, ``""`` for digest-only or unparsable references."""
    if not image or any(ch.isspace() for ch in image):
        return ""
    name, at, digest = image.partition("@")
    if at and not digest:
        return ""
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    repository = name[: len(name) - len(tag) - 1] if tag else name
    if "/" in repository and _looks_like_domain(repository):
        repository = repository.split("/", 1)[1]
    if any(ch.isupper() for ch in repository):
        # Docker references reject upper-case repository names; the parse error leaves no tag.
        return ""
    if tag:
        return tag
    return "" if at else "latest"


def _looks_like_domain(name: str) -> bool:
    first = name.split("/", 1)[0]
    return "." in first or ":" in first or first == "localhost" or first != first.lower()


def _default_field_ref(holder: dict[str, Any]) -> None:
    ref = subdict(holder, "fieldRef")
    if ref is not None:
        set_if_unset(ref, "apiVersion", "v1")


def _default_http_get(handler: dict[str, Any]) -> None:
    action = subdict(handler, "httpGet")
    if action is not None:
        set_if_unset(action, "path", "/")
        set_if_unset(action, "scheme", "HTTP")


def _default_probe(probe: dict[str, Any]) -> None:
    set_if_unset(probe, "timeoutSeconds", 1)
    set_if_unset(probe, "periodSeconds", 10)
    set_if_unset(probe, "successThreshold", 1)
    set_if_unset(probe, "failureThreshold", 3)
    _default_http_get(probe)
    grpc = subdict(probe, "grpc")
    if grpc is not None:
        set_if_none(grpc, "service", "")


def _default_container(ctr: dict[str, Any]) -> None:
    if not ctr.get("imagePullPolicy"):
        tag = image_tag(str(ctr.get("image") or ""))
        ctr["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    set_if_unset(ctr, "terminationMessagePath", DEFAULT_TERMINATION_MESSAGE_PATH)
    set_if_unset(ctr, "terminationMessagePolicy", "File")
    for port in _dicts(ctr.get("ports")):
        set_if_unset(port, "protocol", "TCP")
    for var in _dicts(ctr.get("env")):
        source = subdict(var, "valueFrom")
        if source is not None:
            _default_field_ref(source)
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = subdict(ctr, key)
        if probe is not None:
            _default_probe(probe)
    lifecycle = subdict(ctr, "lifecycle")
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            handler = subdict(lifecycle, hook)
            if handler is not None:
                _default_http_get(handler)


# A volume naming none of these gets an emptyDir (SetDefaults_Volume).


def default_pvc(claim: dict[str, Any], *, with_status: bool) -> None:
    """PersistentVolumeClaim (template) defaults: Filesystem volume mode, Pending phase."""
    spec = subdict(claim, "spec")
    if spec is not None:
        set_if_none(spec, "volumeMode", "Filesystem")
    if with_status:
        status = claim.setdefault("status", {})
        if isinstance(status, dict):
            set_if_unset(status, "phase", "Pending")


def _default_volume(vol: dict[str, Any]) -> None:
    if all(vol.get(k) is None for k in VOLUME_SOURCES):
        vol["emptyDir"] = {}
    for kind in ("secret", "configMap", "downwardAPI", "projected"):
        source = subdict(vol, kind)
        if source is not None:
            set_if_none(source, "defaultMode", DEFAULT_FILE_MODE)
    host_path = subdict(vol, "hostPath")
    if host_path is not None:
        set_if_none(host_path, "type", "")
    downward = subdict(vol, "downwardAPI")
    if downward is not None:
        for item in _dicts(downward.get("items")):
            _default_field_ref(item)
    projected = subdict(vol, "projected")
    if projected is not None:
        for source in _dicts(projected.get("sources")):
            items = subdict(source, "downwardAPI")
            if items is not None:
                for item in _dicts(items.get("items")):
                    _default_field_ref(item)
            token = subdict(source, "serviceAccountToken")
            if token is not None:
                set_if_none(token, "expirationSeconds", DEFAULT_TOKEN_EXPIRATION_SECONDS)
    ephemeral = subdict(vol, "ephemeral")
    if ephemeral is not None:
        template = subdict(ephemeral, "volumeClaimTemplate")
        if template is not None:
            default_pvc(template, with_status=False)
    image = subdict(vol, "image")
    if image is not None and not image.get("pullPolicy"):
        tag = image_tag(str(image.get("reference") or ""))
        image["pullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"


def default_pod_spec(spec: dict[str, Any]) -> None:
    """``SetDefaults_PodSpec`` plus the defaults of every container, probe and volume."""
    set_if_unset(spec, "dnsPolicy", "ClusterFirst")
    set_if_unset(spec, "restartPolicy", "Always")
    set_if_none(spec, "securityContext", {})
    set_if_none(spec, "terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_PERIOD)
    set_if_unset(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for ctr in _dicts(spec.get(kind)):
            _default_container(ctr)
    for vol in _dicts(spec.get("volumes")):
        _default_volume(vol)


def default_pod(obj: dict[str, Any]) -> None:
    """``SetDefaults_Pod``: the pod-spec defaults plus those only real Pods get."""
    spec = subdict(obj, "spec")
    if spec is None:
        return
    default_pod_spec(spec)
    for kind in ("containers", "initContainers"):
        for ctr in _dicts(spec.get(kind)):
            resources = subdict(ctr, "resources")
            limits = subdict(resources, "limits") if resources is not None else None
            if resources is None or limits is None:
                continue
            # Only limits given: the container requests what it is limited to.
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, value in limits.items():
                    requests.setdefault(name, value)
    set_if_none(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for kind in ("containers", "initContainers"):
            for ctr in _dicts(spec.get(kind)):
                for port in _dicts(ctr.get("ports")):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
