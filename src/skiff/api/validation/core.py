"""Validation for the core/v1 kinds other than Pod: Service, ConfigMap, Secret, Namespace, Node,
Event, ServiceAccount and Endpoints (``pkg/apis/core/validation/validation.go``)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_labels
from ._util import (
    ErrorList,
    as_dict,
    as_list,
    immutable,
    is_int,
    port_num_or_name,
    semantic_equal,
)
from .names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_port_num,
)
from .pod import SUPPORTED_PORT_PROTOCOLS

__all__ = [
    "MAX_SECRET_SIZE",
    "NODE_PORT_RANGE",
    "validate_config_map",
    "validate_config_map_update",
    "validate_endpoints",
    "validate_event",
    "validate_namespace",
    "validate_node",
    "validate_node_update",
    "validate_secret",
    "validate_secret_update",
    "validate_service",
    "validate_service_update",
]

MAX_SECRET_SIZE = 1024 * 1024
# The range the NodePort allocator hands out (kube-apiserver --service-node-port-range default).
NODE_PORT_RANGE = (30000, 32767)
_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
_IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _enum(value: Any, path: str, supported: list[str]) -> ErrorList:
    if value in (None, ""):
        return [FieldError.required(path)]
    if value not in supported:
        return [FieldError.not_supported(path, value, supported)]
    return []


# --- Service ---------------------------------------------------------------------------------


def _validate_service_ports(spec: dict[str, Any], svc_type: Any) -> ErrorList:
    errs: ErrorList = []
    ports = as_list(spec.get("ports"))
    require_name = len(ports) > 1
    names: set[str] = set()
    node_ports: set[tuple[Any, Any]] = set()
    keys: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        p = f"spec.ports[{i}]"
        name = port.get("name") or ""
        if require_name and not name:
            errs.append(FieldError.required(f"{p}.name"))
        elif name:
            errs += [FieldError.invalid(f"{p}.name", name, m) for m in is_dns1123_label(name)]
            if name in names:
                errs.append(FieldError.duplicate(f"{p}.name", name))
            names.add(name)
        number = port.get("port")
        if is_int(number):
            errs += [FieldError.invalid(f"{p}.port", number, m) for m in is_valid_port_num(number)]
        else:
            errs.append(FieldError.required(f"{p}.port"))
        protocol = port.get("protocol")
        errs += _enum(protocol, f"{p}.protocol", SUPPORTED_PORT_PROTOCOLS)
        if "targetPort" in port and port["targetPort"] not in (None, 0, ""):
            errs += port_num_or_name(port["targetPort"], f"{p}.targetPort")
        key = (number, protocol)
        if key in keys:
            errs.append(FieldError.duplicate(p, {"port": number, "protocol": protocol}))
        keys.add(key)
        node_port = port.get("nodePort")
        if is_int(node_port) and node_port != 0:
            if svc_type == "ClusterIP":
                errs.append(
                    FieldError.forbidden(
                        f"{p}.nodePort", "may not be used when `type` is 'ClusterIP'"
                    )
                )
            lo, hi = NODE_PORT_RANGE
            if not lo <= node_port <= hi:
                errs.append(
                    FieldError.invalid(
                        f"{p}.nodePort",
                        node_port,
                        "provided port is not in the valid range. The range of valid ports is "
                        f"{lo}-{hi}",
                    )
                )
            nkey = (node_port, protocol)
            if nkey in node_ports:
                errs.append(FieldError.duplicate(f"{p}.nodePort", node_port))
            node_ports.add(nkey)
    return errs


def validate_service(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    svc_type = spec.get("type")
    errs += _enum(svc_type, "spec.type", _SERVICE_TYPES)
    cluster_ip = spec.get("clusterIP") or ""
    headless = cluster_ip == "None"
    if not as_list(spec.get("ports")) and not headless and svc_type != "ExternalName":
        errs.append(FieldError.required("spec.ports"))
    errs += _validate_service_ports(spec, svc_type)
    if svc_type == "ExternalName":
        if cluster_ip:
            errs.append(
                FieldError.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
            )
        name = spec.get("externalName") or ""
        if not name:
            errs.append(FieldError.required("spec.externalName"))
        else:
            stripped = name[:-1] if name.endswith(".") else name
            msgs = is_dns1123_subdomain(stripped)
            if msgs:
                errs.append(FieldError.invalid("spec.externalName", stripped, ",".join(msgs)))
            elif len(stripped.split(".")) < 2:
                errs.append(
                    FieldError.invalid(
                        "spec.externalName",
                        stripped,
                        "should be a domain with at least two segments separated by dots",
                    )
                )
    cluster_ips = as_list(spec.get("clusterIPs"))
    if cluster_ip and cluster_ips and cluster_ips[0] != cluster_ip:
        errs.append(
            FieldError.invalid("spec.clusterIPs", cluster_ips, "first value must match `clusterIP`")
        )
    for i, ip in enumerate(cluster_ips or ([cluster_ip] if cluster_ip else [])):
        if ip != "None" and not _is_ip(ip):
            errs.append(FieldError.invalid(f"spec.clusterIPs[{i}]", ip, _IP_MSG))
    if headless and len(cluster_ips) > 1:
        errs.append(
            FieldError.invalid(
                "spec.clusterIPs",
                cluster_ips,
                "must have only one value when `clusterIPs[0]` is None",
            )
        )
    errs += validate_labels(spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    errs += _enum(affinity, "spec.sessionAffinity", ["ClientIP", "None"])
    if affinity == "ClientIP":
        timeout = as_dict(as_dict(spec.get("sessionAffinityConfig")).get("clientIP")).get(
            "timeoutSeconds"
        )
        if timeout is not None and (not is_int(timeout) or not 0 < timeout <= 86400):
            errs.append(
                FieldError.invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    timeout,
                    "must be greater than 0 and less than 86400",
                )
            )
    elif spec.get("sessionAffinityConfig") is not None:
        errs.append(
            FieldError.invalid(
                "spec.sessionAffinityConfig",
                spec["sessionAffinityConfig"],
                "must not be set when session affinity is None",
            )
        )
    etp = spec.get("externalTrafficPolicy")
    if svc_type in ("NodePort", "LoadBalancer"):
        errs += _enum(etp, "spec.externalTrafficPolicy", ["Cluster", "Local"])
    elif etp:
        errs.append(
            FieldError.invalid(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            )
        )
    itp = spec.get("internalTrafficPolicy")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        errs += _enum(itp, "spec.internalTrafficPolicy", ["Cluster", "Local"])
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("SingleStack", "PreferDualStack", "RequireDualStack"):
        errs.append(
            FieldError.not_supported(
                "spec.ipFamilyPolicy",
                policy,
                ["PreferDualStack", "RequireDualStack", "SingleStack"],
            )
        )
    families = as_list(spec.get("ipFamilies"))
    for i, fam in enumerate(families):
        if fam not in ("IPv4", "IPv6"):
            errs.append(FieldError.not_supported(f"spec.ipFamilies[{i}]", fam, ["IPv4", "IPv6"]))
    if len(families) > 1 and policy == "SingleStack":
        errs.append(
            FieldError.invalid(
                "spec.ipFamilies",
                families,
                "when multiple IP families are specified, IP family policy must be "
                "RequireDualStack or PreferDualStack",
            )
        )
    if len(families) == 2 and families[0] == families[1]:
        errs.append(FieldError.duplicate("spec.ipFamilies[1]", families[1]))
    return errs


def validate_service_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """The primary cluster IP may be set once (by the allocator or the client), never changed."""
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    if "ExternalName" in (new_spec.get("type"), old_spec.get("type")):
        return []
    old_ip = old_spec.get("clusterIP") or ""
    new_ip = new_spec.get("clusterIP") or ""
    if old_ip and new_ip and new_ip != old_ip:
        return [FieldError.invalid("spec.clusterIPs[0]", new_ip, "may not change once set")]
    return []


# --- ConfigMap / Secret ----------------------------------------------------------------------


def _decoded_len(value: Any) -> int | None:
    try:
        return len(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return None


def validate_config_map(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    total = 0
    data = as_dict(obj.get("data"))
    for key, value in data.items():
        errs += [FieldError.invalid(f"data[{key}]", key, m) for m in is_config_map_key(key)]
        total += len(str(value).encode())
    for key, value in as_dict(obj.get("binaryData")).items():
        errs += [FieldError.invalid(f"binaryData[{key}]", key, m) for m in is_config_map_key(key)]
        if key in data:
            errs.append(
                FieldError.invalid(f"binaryData[{key}]", key, "duplicate of key present in data")
            )
        size = _decoded_len(value)
        if size is None:
            errs.append(FieldError.invalid(f"binaryData[{key}]", "<binary>", "illegal base64 data"))
        else:
            total += size
    if total > MAX_SECRET_SIZE:
        errs.append(FieldError.too_long("[]", "", MAX_SECRET_SIZE))
    return errs


def _validate_immutable_data(
    new: dict[str, Any], old: dict[str, Any], keys: tuple[str, ...]
) -> ErrorList:
    if old.get("immutable") is not True:
        return []
    errs: ErrorList = []
    msg = "field is immutable when `immutable` is set"
    if new.get("immutable") is not True:
        errs.append(FieldError.forbidden("immutable", msg))
    for key in keys:
        if not semantic_equal(new.get(key), old.get(key)):
            errs.append(FieldError.forbidden(key, msg))
    return errs


def validate_config_map_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    return _validate_immutable_data(new, old, ("data", "binaryData"))


def validate_secret(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    data = as_dict(obj.get("data"))
    total = 0
    for key, value in data.items():
        errs += [FieldError.invalid(f"data[{key}]", key, m) for m in is_config_map_key(key)]
        size = _decoded_len(value)
        if size is None:
            errs.append(
                FieldError.invalid(
                    f"data[{key}]", "<secret contents redacted>", "illegal base64 data"
                )
            )
        else:
            total += size
    for key, value in as_dict(obj.get("stringData")).items():
        # The v1 -> internal conversion merges stringData into data; check keys the same way.
        errs += [FieldError.invalid(f"stringData[{key}]", key, m) for m in is_config_map_key(key)]
        if key not in data:
            total += len(str(value).encode())
    if total > MAX_SECRET_SIZE:
        errs.append(FieldError.too_long("data", "", MAX_SECRET_SIZE))
    keys = set(data) | set(as_dict(obj.get("stringData")))
    secret_type = obj.get("type")
    annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
    if secret_type == "kubernetes.io/service-account-token":
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(
                FieldError.required("metadata.annotations[kubernetes.io/service-account.name]")
            )
    elif secret_type == "kubernetes.io/dockercfg":
        errs += _require_keys(keys, (".dockercfg",))
    elif secret_type == "kubernetes.io/dockerconfigjson":
        errs += _require_keys(keys, (".dockerconfigjson",))
        raw = data.get(".dockerconfigjson")
        if raw is not None:
            try:
                json.loads(base64.b64decode(str(raw)))
            except (ValueError, binascii.Error) as exc:
                errs.append(
                    FieldError.invalid(
                        "data[.dockerconfigjson]", "<secret contents redacted>", str(exc)
                    )
                )
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in keys and "password" not in keys:
            errs += _require_keys(keys, ("username", "password"))
    elif secret_type == "kubernetes.io/ssh-auth":
        errs += _require_keys(keys, ("ssh-privatekey",))
    elif secret_type == "kubernetes.io/tls":
        errs += _require_keys(keys, ("tls.key", "tls.crt"))
    return errs


def _require_keys(keys: set[str], required: tuple[str, ...]) -> ErrorList:
    return [FieldError.required(f"data[{k}]") for k in required if k not in keys]


def validate_secret_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    errs = immutable(new.get("type"), old.get("type"), "type")
    return errs + _validate_immutable_data(new, old, ("data",))


# --- Namespace / Node ------------------------------------------------------------------------


def validate_namespace(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    for finalizer in as_list(as_dict(obj.get("spec")).get("finalizers")):
        name = str(finalizer)
        msgs = is_qualified_name(name)
        errs += [FieldError.invalid("spec.finalizers", name, m) for m in msgs]
        if not msgs and "/" not in name and name != "kubernetes":
            errs.append(
                FieldError.invalid(
                    "spec.finalizers",
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


def _valid_cidr(value: Any) -> bool:
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return "/" in str(value)


def validate_node(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    cidrs = as_list(spec.get("podCIDRs"))
    pod_cidr = spec.get("podCIDR") or ""
    if pod_cidr and cidrs and cidrs[0] != pod_cidr:
        errs.append(FieldError.invalid("spec.podCIDRs", cidrs, "first value must match `podCIDR`"))
    for i, cidr in enumerate(cidrs or ([pod_cidr] if pod_cidr else [])):
        if not _valid_cidr(cidr):
            errs.append(
                FieldError.invalid(
                    f"spec.podCIDRs[{i}]",
                    cidr,
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                )
            )
    seen: set[tuple[Any, Any]] = set()
    for i, taint in enumerate(as_list(spec.get("taints"))):
        taint = as_dict(taint)
        p = f"spec.taints[{i}]"
        key = taint.get("key") or ""
        errs += [FieldError.invalid(f"{p}.key", key, m) for m in is_qualified_name(key)]
        effect = taint.get("effect")
        errs += _enum(effect, f"{p}.effect", ["NoExecute", "NoSchedule", "PreferNoSchedule"])
        if (key, effect) in seen:
            errs.append(FieldError.duplicate(p, {"key": key, "effect": effect}))
        seen.add((key, effect))
    return errs


def validate_node_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs: ErrorList = []
    old_cidrs = as_list(old_spec.get("podCIDRs"))
    if old_cidrs and not semantic_equal(old_cidrs, new_spec.get("podCIDRs")):
        errs.append(
            FieldError.forbidden(
                "spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'
            )
        )
    old_provider = old_spec.get("providerID") or ""
    if old_provider and new_spec.get("providerID") != old_provider:
        errs.append(
            FieldError.forbidden(
                "spec.providerID", 'node updates may not change providerID except from "" to valid'
            )
        )
    return errs


# --- Event / Endpoints -----------------------------------------------------------------------


def validate_event(obj: dict[str, Any]) -> ErrorList:
    """The legacy core/v1 Event: its namespace must match the involved object's."""
    errs: ErrorList = []
    namespace = as_dict(obj.get("metadata")).get("namespace") or ""
    involved = as_dict(obj.get("involvedObject"))
    involved_ns = involved.get("namespace") or ""
    if involved_ns:
        mismatch = namespace != involved_ns
    else:
        # Events about cluster-scoped objects live in "default" (older clients) or nowhere.
        mismatch = namespace not in ("", "default")
    if mismatch:
        errs.append(
            FieldError.invalid(
                "involvedObject.namespace", involved_ns, "does not match event.namespace"
            )
        )
    event_type = obj.get("type")
    if event_type not in (None, "", "Normal", "Warning"):
        errs.append(FieldError.not_supported("type", event_type, ["Normal", "Warning"]))
    return errs


def validate_endpoints(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    for i, subset in enumerate(as_list(obj.get("subsets"))):
        subset = as_dict(subset)
        sp = f"subsets[{i}]"
        for field in ("addresses", "notReadyAddresses"):
            for j, addr in enumerate(as_list(subset.get(field))):
                ip = as_dict(addr).get("ip") or ""
                if not _is_ip(ip):
                    errs.append(
                        FieldError.invalid(
                            f"{sp}.{field}[{j}].ip", ip, "must be a valid IP address"
                        )
                    )
        ports = as_list(subset.get("ports"))
        for j, port in enumerate(ports):
            port = as_dict(port)
            pp = f"{sp}.ports[{j}]"
            name = port.get("name") or ""
            if len(ports) > 1 and not name:
                errs.append(FieldError.required(f"{pp}.name"))
            elif name:
                errs += [FieldError.invalid(f"{pp}.name", name, m) for m in is_dns1123_label(name)]
            number = port.get("port")
            if is_int(number):
                errs += [
                    FieldError.invalid(f"{pp}.port", number, m) for m in is_valid_port_num(number)
                ]
            else:
                errs.append(FieldError.required(f"{pp}.port"))
            errs += _enum(port.get("protocol"), f"{pp}.protocol", SUPPORTED_PORT_PROTOCOLS)
    return errs
