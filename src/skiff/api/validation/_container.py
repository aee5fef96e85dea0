"""Container and volume validation for pod specs: ports, env, resources, probes, mounts, volumes.

Split out of ``pod`` to keep modules small; ``pod.validate_pod_spec`` is the only caller.
"""

from __future__ import annotations

from typing import Any

from skiff.api._volume_sources import VOLUME_SOURCES
from skiff.api.field import FieldError

from ._util import (
    IS_NEGATIVE,
    QUANTITY_FORMAT,
    ErrorList,
    as_dict,
    as_list,
    is_int,
    nonnegative,
    not_found,
    parse_quantity,
    port_num_or_name,
)
from .names import (
    is_config_map_key,
    is_dns1123_label,
    is_env_var_name,
    is_http_header_name,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
)

__all__ = ["SUPPORTED_PORT_PROTOCOLS", "enum", "validate_container", "validate_volumes"]

SUPPORTED_PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"

_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_FIELD_REF_PATHS = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
]


def enum(value: Any, path: str, supported: list[str]) -> ErrorList:
    """Required when empty, NotSupported when outside ``supported`` (upstream's usual switch)."""
    if value in (None, ""):
        return [FieldError.required(path)]
    if value not in supported:
        return [FieldError.not_supported(path, value, supported)]
    return []


# --- resources -------------------------------------------------------------------------------


def _overcommit_allowed(name: str) -> bool:
    # Native resources (no domain, or the kubernetes.io domain) may be overcommitted, except
    # hugepages; extended resources (other domains) must have requests == limits.
    if name.startswith("hugepages-"):
        return False
    return "/" not in name or name.startswith("kubernetes.io/")


def _validate_resource_name(name: str, path: str) -> ErrorList:
    errs = [FieldError.invalid(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if (
        "/" not in name
        and name not in _STANDARD_CONTAINER_RESOURCES
        and not name.startswith("hugepages-")
    ):
        errs.append(FieldError.invalid(path, name, "must be a standard resource for containers"))
    return errs


def _validate_quantity(name: str, value: Any, path: str) -> tuple[ErrorList, Any]:
    q = parse_quantity(value)
    if q is None:
        return [FieldError.invalid(path, value, QUANTITY_FORMAT)], None
    errs: ErrorList = []
    if q < 0:
        errs.append(FieldError.invalid(path, str(value), IS_NEGATIVE))
    if not _overcommit_allowed(name) and not name.startswith("hugepages-") and q != int(q):
        errs.append(FieldError.invalid(path, str(value), "must be an integer"))
    return errs, q


def _validate_resources(resources: Any, path: str) -> ErrorList:
    resources = as_dict(resources)
    lim_path, req_path = f"{path}.limits", f"{path}.requests"
    errs: ErrorList = []
    limits: dict[str, Any] = {}
    for name, value in as_dict(resources.get("limits")).items():
        p = f"{lim_path}[{name}]"
        errs += _validate_resource_name(name, p)
        qerrs, q = _validate_quantity(name, value, p)
        errs += qerrs
        limits[name] = (value, q)
    for name, value in as_dict(resources.get("requests")).items():
        p = f"{req_path}[{name}]"
        errs += _validate_resource_name(name, p)
        qerrs, q = _validate_quantity(name, value, p)
        errs += qerrs
        if q is None:
            continue
        if name in limits:
            lim_raw, lim = limits[name]
            if lim is None:
                continue
            if q != lim and not _overcommit_allowed(name):
                errs.append(
                    FieldError.invalid(
                        req_path, str(value), f"must be equal to {name} limit of {lim_raw}"
                    )
                )
            elif q > lim:
                errs.append(
                    FieldError.invalid(
                        req_path,
                        str(value),
                        f"must be less than or equal to {name} limit of {lim_raw}",
                    )
                )
        elif not _overcommit_allowed(name):
            errs.append(
                FieldError.required(lim_path, "Limit must be set for non overcommitable resources")
            )
    return errs


# --- env -------------------------------------------------------------------------------------


def _validate_key_ref(ref: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    if not ref.get("name"):
        errs.append(FieldError.required(f"{path}.name"))
    key = ref.get("key") or ""
    if not key:
        errs.append(FieldError.required(f"{path}.key"))
    else:
        errs += [FieldError.invalid(f"{path}.key", key, m) for m in is_config_map_key(key)]
    return errs


def _validate_field_ref(ref: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    if not ref.get("apiVersion"):
        errs.append(FieldError.required(f"{path}.apiVersion"))
    field_path = ref.get("fieldPath") or ""
    if not field_path:
        errs.append(FieldError.required(f"{path}.fieldPath"))
        return errs
    # metadata.labels['key'] / metadata.annotations['key'] select one entry.
    base, _, _subscript = field_path.partition("[")
    if base not in _FIELD_REF_PATHS or (
        _subscript and base not in ("metadata.labels", "metadata.annotations")
    ):
        errs.append(FieldError.not_supported(f"{path}.fieldPath", field_path, _FIELD_REF_PATHS))
    return errs


def _validate_env(env: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    for i, var in enumerate(as_list(env)):
        var = as_dict(var)
        p = f"{path}[{i}]"
        name = var.get("name") or ""
        if not name:
            errs.append(FieldError.required(f"{p}.name"))
        else:
            errs += [FieldError.invalid(f"{p}.name", name, m) for m in is_env_var_name(name)]
        if "valueFrom" not in var or var["valueFrom"] is None:
            continue
        source = as_dict(var["valueFrom"])
        vpath = f"{p}.valueFrom"
        present = [
            k
            for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
            if source.get(k) is not None
        ]
        if not present:
            errs.append(
                FieldError.invalid(
                    vpath,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                    "`secretKeyRef`",
                )
            )
        elif len(present) > 1:
            errs.append(
                FieldError.invalid(
                    vpath, "", "may not have more than one field specified at a time"
                )
            )
        if var.get("value"):
            errs.append(
                FieldError.invalid(vpath, "", "may not be specified when `value` is not empty")
            )
        if "fieldRef" in present:
            errs += _validate_field_ref(as_dict(source["fieldRef"]), f"{vpath}.fieldRef")
        for kind in ("configMapKeyRef", "secretKeyRef"):
            if kind in present:
                errs += _validate_key_ref(as_dict(source[kind]), f"{vpath}.{kind}")
        if "resourceFieldRef" in present:
            ref = as_dict(source["resourceFieldRef"])
            if not ref.get("resource"):
                errs.append(FieldError.required(f"{vpath}.resourceFieldRef.resource"))
    return errs


def _validate_env_from(env_from: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    for i, src in enumerate(as_list(env_from)):
        src = as_dict(src)
        p = f"{path}[{i}]"
        refs = [k for k in ("configMapRef", "secretRef") if src.get(k) is not None]
        if not refs:
            errs.append(
                FieldError.invalid(p, "", "must specify one of: `configMapRef` or `secretRef`")
            )
        elif len(refs) > 1:
            errs.append(
                FieldError.invalid(p, "", "may not have more than one field specified at a time")
            )
        for ref in refs:
            if not as_dict(src[ref]).get("name"):
                errs.append(FieldError.required(f"{p}.{ref}.name"))
    return errs


# --- probes and handlers ---------------------------------------------------------------------


def _validate_http_get(action: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    if not action.get("path"):
        errs.append(FieldError.required(f"{path}.path"))
    errs += port_num_or_name(action.get("port"), f"{path}.port")
    scheme = action.get("scheme")
    if scheme not in (None, "HTTP", "HTTPS"):
        errs.append(FieldError.not_supported(f"{path}.scheme", scheme, ["HTTP", "HTTPS"]))
    for i, header in enumerate(as_list(action.get("httpHeaders"))):
        name = str(as_dict(header).get("name") or "")
        errs += [
            FieldError.invalid(f"{path}.httpHeaders[{i}].name", name, m)
            for m in is_http_header_name(name)
        ]
    return errs


def _validate_handler(handler: dict[str, Any], path: str, kinds: tuple[str, ...]) -> ErrorList:
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        return [FieldError.required(path, "must specify a handler type")]
    errs: ErrorList = []
    for extra in present[1:]:
        errs.append(
            FieldError.forbidden(f"{path}.{extra}", "may not specify more than 1 handler type")
        )
    for kind in present[:1]:
        body = as_dict(handler[kind])
        hp = f"{path}.{kind}"
        if kind == "exec" and not as_list(body.get("command")):
            errs.append(FieldError.required(f"{hp}.command"))
        elif kind == "httpGet":
            errs += _validate_http_get(body, hp)
        elif kind == "tcpSocket":
            errs += port_num_or_name(body.get("port"), f"{hp}.port")
        elif kind == "grpc":
            port = body.get("port")
            if is_int(port):
                errs += [FieldError.invalid(f"{hp}.port", port, m) for m in is_valid_port_num(port)]
            else:
                errs.append(FieldError.required(f"{hp}.port"))
        elif kind == "sleep":
            seconds = body.get("seconds")
            if not is_int(seconds) or seconds < 0:
                errs.append(FieldError.invalid(f"{hp}.seconds", seconds, IS_NEGATIVE))
    return errs


def _validate_probe(probe: Any, path: str, *, success_must_be_one: bool) -> ErrorList:
    if probe is None:
        return []
    probe = as_dict(probe)
    errs = _validate_handler(probe, path, _PROBE_HANDLERS)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
        "terminationGracePeriodSeconds",
    ):
        errs += nonnegative(probe.get(key), f"{path}.{key}")
    if success_must_be_one and probe.get("successThreshold") not in (None, 1):
        errs.append(
            FieldError.invalid(
                f"{path}.successThreshold", probe.get("successThreshold"), "must be 1"
            )
        )
    return errs


# --- containers ------------------------------------------------------------------------------


def _validate_ports(ports: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    names: set[str] = set()
    for i, port in enumerate(as_list(ports)):
        port = as_dict(port)
        p = f"{path}[{i}]"
        name = port.get("name") or ""
        if name:
            errs += [FieldError.invalid(f"{p}.name", name, m) for m in is_valid_port_name(name)]
            if name in names:
                errs.append(FieldError.duplicate(f"{p}.name", name))
            names.add(name)
        container_port = port.get("containerPort")
        if not container_port:
            errs.append(FieldError.required(f"{p}.containerPort"))
        elif is_int(container_port):
            errs += [
                FieldError.invalid(f"{p}.containerPort", container_port, m)
                for m in is_valid_port_num(container_port)
            ]
        host_port = port.get("hostPort")
        if is_int(host_port) and host_port != 0:
            errs += [
                FieldError.invalid(f"{p}.hostPort", host_port, m)
                for m in is_valid_port_num(host_port)
            ]
        errs += enum(port.get("protocol"), f"{p}.protocol", SUPPORTED_PORT_PROTOCOLS)
    return errs


def _validate_volume_mounts(mounts: Any, volumes: set[str], path: str) -> ErrorList:
    errs: ErrorList = []
    seen: set[str] = set()
    for i, mount in enumerate(as_list(mounts)):
        mount = as_dict(mount)
        p = f"{path}[{i}]"
        name = mount.get("name") or ""
        if not name:
            errs.append(FieldError.required(f"{p}.name"))
        elif name not in volumes:
            errs.append(not_found(f"{p}.name", name))
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            errs.append(FieldError.required(f"{p}.mountPath"))
        elif mount_path in seen:
            errs.append(FieldError.invalid(f"{p}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
        sub_path = mount.get("subPath") or ""
        if sub_path:
            if sub_path.startswith("/"):
                errs.append(FieldError.invalid(f"{p}.subPath", sub_path, "must be a relative path"))
            elif ".." in sub_path.split("/"):
                errs.append(FieldError.invalid(f"{p}.subPath", sub_path, "must not contain '..'"))
    return errs


def validate_container(
    ctr: dict[str, Any], path: str, volumes: set[str], *, kind: str, is_pod: bool
) -> ErrorList:
    errs: ErrorList = []
    name = ctr.get("name") or ""
    if not name:
        errs.append(FieldError.required(f"{path}.name"))
    else:
        errs += [FieldError.invalid(f"{path}.name", name, m) for m in is_dns1123_label(name)]
    image = ctr.get("image") or ""
    if not image:
        errs.append(FieldError.required(f"{path}.image"))
    elif is_pod and image != image.strip():
        errs.append(
            FieldError.invalid(
                f"{path}.image", image, "must not have leading or trailing whitespace"
            )
        )
    errs += enum(
        ctr.get("imagePullPolicy"), f"{path}.imagePullPolicy", ["Always", "IfNotPresent", "Never"]
    )
    policy = ctr.get("terminationMessagePolicy")
    if policy in (None, ""):
        errs.append(FieldError.required(f"{path}.terminationMessagePolicy"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        errs.append(
            FieldError.invalid(
                f"{path}.terminationMessagePolicy",
                policy,
                "must be 'File' or 'FallbackToLogsOnError'",
            )
        )
    if kind != "ephemeralContainers":
        errs += _validate_ports(ctr.get("ports"), f"{path}.ports")
    errs += _validate_env(ctr.get("env"), f"{path}.env")
    errs += _validate_env_from(ctr.get("envFrom"), f"{path}.envFrom")
    errs += _validate_volume_mounts(ctr.get("volumeMounts"), volumes, f"{path}.volumeMounts")
    errs += _validate_resources(ctr.get("resources"), f"{path}.resources")
    restart_policy = ctr.get("restartPolicy")
    if kind == "initContainers":
        if restart_policy is not None and restart_policy != "Always":
            errs.append(
                FieldError.not_supported(f"{path}.restartPolicy", restart_policy, ["Always"])
            )
    elif restart_policy is not None:
        errs.append(
            FieldError.forbidden(f"{path}.restartPolicy", "may not be set for non-init containers")
        )
    if kind == "containers" or (kind == "initContainers" and restart_policy == "Always"):
        errs += _validate_probe(
            ctr.get("livenessProbe"), f"{path}.livenessProbe", success_must_be_one=True
        )
        errs += _validate_probe(
            ctr.get("readinessProbe"), f"{path}.readinessProbe", success_must_be_one=False
        )
        errs += _validate_probe(
            ctr.get("startupProbe"), f"{path}.startupProbe", success_must_be_one=True
        )
    else:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if ctr.get(probe) is not None:
                what = "init containers" if kind == "initContainers" else "ephemeral containers"
                errs.append(FieldError.forbidden(f"{path}.{probe}", f"may not be set for {what}"))
    lifecycle = as_dict(ctr.get("lifecycle"))
    for hook in ("postStart", "preStop"):
        if lifecycle.get(hook) is not None:
            errs += _validate_handler(
                as_dict(lifecycle[hook]), f"{path}.lifecycle.{hook}", _LIFECYCLE_HANDLERS
            )
    return errs


# --- volumes ---------------------------------------------------------------------------------


def _validate_mode(mode: Any, path: str) -> ErrorList:
    if mode is not None and (not is_int(mode) or not 0 <= mode <= 0o777):
        return [FieldError.invalid(path, mode, _FILE_MODE_MSG)]
    return []


def _validate_volume_source(kind: str, source: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    if kind == "secret":
        if not source.get("secretName"):
            errs.append(FieldError.required(f"{path}.secretName"))
        errs += _validate_mode(source.get("defaultMode"), f"{path}.defaultMode")
    elif kind == "configMap":
        if not source.get("name"):
            errs.append(FieldError.required(f"{path}.name"))
        errs += _validate_mode(source.get("defaultMode"), f"{path}.defaultMode")
    elif kind in ("downwardAPI", "projected"):
        errs += _validate_mode(source.get("defaultMode"), f"{path}.defaultMode")
    elif kind == "hostPath":
        if not source.get("path"):
            errs.append(FieldError.required(f"{path}.path"))
        host_type = source.get("type")
        supported = [
            "",
            "BlockDevice",
            "CharDevice",
            "Directory",
            "DirectoryOrCreate",
            "File",
            "FileOrCreate",
            "Socket",
        ]
        if host_type is not None and host_type not in supported:
            errs.append(FieldError.not_supported(f"{path}.type", host_type, supported))
    elif kind == "persistentVolumeClaim":
        if not source.get("claimName"):
            errs.append(FieldError.required(f"{path}.claimName"))
    elif kind == "emptyDir":
        medium = source.get("medium")
        if medium not in (None, "", "Memory", "HugePages") and not str(medium).startswith(
            "HugePages-"
        ):
            errs.append(
                FieldError.not_supported(f"{path}.medium", medium, ["", "HugePages", "Memory"])
            )
        limit = source.get("sizeLimit")
        if limit is not None:
            q = parse_quantity(limit)
            if q is None:
                errs.append(FieldError.invalid(f"{path}.sizeLimit", limit, QUANTITY_FORMAT))
            elif q < 0:
                errs.append(FieldError.invalid(f"{path}.sizeLimit", limit, IS_NEGATIVE))
    elif kind == "nfs":
        for key in ("server", "path"):
            if not source.get(key):
                errs.append(FieldError.required(f"{path}.{key}"))
    return errs


def validate_volumes(volumes: Any, path: str) -> tuple[ErrorList, set[str]]:
    errs: ErrorList = []
    names: set[str] = set()
    for i, vol in enumerate(as_list(volumes)):
        vol = as_dict(vol)
        p = f"{path}[{i}]"
        name = vol.get("name") or ""
        if not name:
            errs.append(FieldError.required(f"{p}.name"))
        else:
            errs += [FieldError.invalid(f"{p}.name", name, m) for m in is_dns1123_label(name)]
            if name in names:
                errs.append(FieldError.duplicate(f"{p}.name", name))
            names.add(name)
        sources = [k for k in VOLUME_SOURCES if vol.get(k) is not None]
        if not sources:
            errs.append(FieldError.required(p, "must specify a volume type"))
            continue
        for extra in sources[1:]:
            errs.append(
                FieldError.forbidden(f"{p}.{extra}", "may not specify more than 1 volume type")
            )
        errs += _validate_volume_source(sources[0], as_dict(vol[sources[0]]), f"{p}.{sources[0]}")
    return errs, names
