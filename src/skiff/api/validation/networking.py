"""Validation for networking.k8s.io/v1 Ingress and NetworkPolicy and discovery.k8s.io/v1
EndpointSlice (``pkg/apis/networking/validation``, ``pkg/apis/discovery/validation``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_label_selector
from ._util import ErrorList, as_dict, as_list, immutable, is_int, port_num_or_name
from .names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_valid_port_name,
    is_valid_port_num,
    is_wildcard_dns1123_subdomain,
)
from .pod import SUPPORTED_PORT_PROTOCOLS

__all__ = [
    "validate_endpoint_slice",
    "validate_endpoint_slice_update",
    "validate_ingress",
    "validate_network_policy",
]

_PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]
# Sequences a Prefix/Exact path may not contain (they would be normalised away by proxies).
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


def _validate_backend(backend: dict[str, Any], path: str) -> ErrorList:
    service = backend.get("service")
    resource = backend.get("resource")
    if service is not None and resource is not None:
        return [FieldError.invalid(path, "", "cannot set both resource and service backends")]
    if service is None and resource is None:
        return [FieldError.invalid(path, "", "resource or service backend is required")]
    errs: ErrorList = []
    if service is not None:
        service = as_dict(service)
        sp = f"{path}.service"
        name = service.get("name") or ""
        if not name:
            errs.append(FieldError.required(f"{sp}.name"))
        else:
            errs += [FieldError.invalid(f"{sp}.name", name, m) for m in is_dns1035_label(name)]
        port = as_dict(service.get("port"))
        has_name, has_number = bool(port.get("name")), port.get("number") not in (None, 0)
        if has_name and has_number:
            errs.append(
                FieldError.invalid(f"{sp}.port", port, "cannot set both port name & port number")
            )
        elif has_name:
            errs += [
                FieldError.invalid(f"{sp}.port.name", port["name"], m)
                for m in is_valid_port_name(port["name"])
            ]
        elif has_number:
            number = port["number"]
            errs += [
                FieldError.invalid(f"{sp}.port.number", number, m)
                for m in (is_valid_port_num(number) if is_int(number) else ["must be an integer"])
            ]
        else:
            errs.append(FieldError.required(f"{sp}.port", "port name or number is required"))
    else:
        resource = as_dict(resource)
        for key in ("kind", "name"):
            if not resource.get(key):
                errs.append(FieldError.required(f"{path}.resource.{key}"))
    return errs


def _validate_http_path(item: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    path_type = item.get("pathType")
    value = item.get("path") or ""
    if path_type is None:
        errs.append(FieldError.required(f"{path}.pathType", "pathType must be specified"))
    elif path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.append(FieldError.invalid(f"{path}.path", value, "must be an absolute path"))
        else:
            for seq in _INVALID_PATH_SEQUENCES:
                if seq in value:
                    errs.append(
                        FieldError.invalid(f"{path}.path", value, f"must not contain '{seq}'")
                    )
            for suffix in _INVALID_PATH_SUFFIXES:
                if value.endswith(suffix):
                    errs.append(
                        FieldError.invalid(f"{path}.path", value, f"cannot end with '{suffix}'")
                    )
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.append(FieldError.invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errs.append(FieldError.not_supported(f"{path}.pathType", path_type, _PATH_TYPES))
    errs += _validate_backend(as_dict(item.get("backend")), f"{path}.backend")
    return errs


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def validate_ingress(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    rules = as_list(spec.get("rules"))
    default_backend = spec.get("defaultBackend")
    if not rules and default_backend is None:
        errs.append(
            FieldError.invalid(
                "spec", rules, "either `defaultBackend` or `rules` must be specified"
            )
        )
    if default_backend is not None:
        errs += _validate_backend(as_dict(default_backend), "spec.defaultBackend")
    for i, rule in enumerate(rules):
        rule = as_dict(rule)
        rp = f"spec.rules[{i}]"
        host = rule.get("host") or ""
        if host:
            if _is_ip(host):
                errs.append(
                    FieldError.invalid(f"{rp}.host", host, "must be a DNS name, not an IP address")
                )
            elif "*" in host:
                errs += [
                    FieldError.invalid(f"{rp}.host", host, m)
                    for m in is_wildcard_dns1123_subdomain(host)
                ]
            else:
                errs += [
                    FieldError.invalid(f"{rp}.host", host, m) for m in is_dns1123_subdomain(host)
                ]
        http = rule.get("http")
        if http is None:
            continue
        paths = as_list(as_dict(http).get("paths"))
        if not paths:
            errs.append(FieldError.required(f"{rp}.http.paths"))
        for j, item in enumerate(paths):
            errs += _validate_http_path(as_dict(item), f"{rp}.http.paths[{j}]")
    for i, tls in enumerate(as_list(spec.get("tls"))):
        for j, host in enumerate(as_list(as_dict(tls).get("hosts"))):
            check = is_wildcard_dns1123_subdomain if "*" in str(host) else is_dns1123_subdomain
            errs += [
                FieldError.invalid(f"spec.tls[{i}].hosts[{j}]", host, m) for m in check(str(host))
            ]
    class_name = spec.get("ingressClassName")
    if class_name:
        errs += [
            FieldError.invalid("spec.ingressClassName", class_name, m)
            for m in is_dns1123_subdomain(class_name)
        ]
    return errs


# --- NetworkPolicy ---------------------------------------------------------------------------


def _validate_ip_block(block: dict[str, Any], path: str) -> ErrorList:
    cidr = block.get("cidr") or ""
    if not cidr:
        return [FieldError.required(f"{path}.cidr")]
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return [
            FieldError.invalid(
                f"{path}.cidr",
                cidr,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            )
        ]
    errs: ErrorList = []
    for i, except_cidr in enumerate(as_list(block.get("except"))):
        ep = f"{path}.except[{i}]"
        try:
            sub = ipaddress.ip_network(str(except_cidr), strict=False)
        except ValueError:
            errs.append(
                FieldError.invalid(
                    ep,
                    except_cidr,
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                )
            )
            continue
        if (
            sub.version != network.version
            or not sub.subnet_of(network)  # type: ignore[arg-type]
            or sub.prefixlen <= network.prefixlen
        ):
            errs.append(FieldError.invalid(ep, except_cidr, "must be a strict subset of `cidr`"))
    return errs


def _validate_peer(peer: dict[str, Any], path: str) -> ErrorList:
    kinds = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    errs: ErrorList = []
    if not kinds:
        return [FieldError.required(path, "must specify a peer")]
    if "ipBlock" in kinds and len(kinds) > 1:
        errs.append(FieldError.forbidden(path, "may not specify both ipBlock and another peer"))
    for key in ("podSelector", "namespaceSelector"):
        if key in kinds:
            errs += validate_label_selector(peer[key], f"{path}.{key}")
    if "ipBlock" in kinds:
        errs += _validate_ip_block(as_dict(peer["ipBlock"]), f"{path}.ipBlock")
    return errs


def _validate_np_port(port: dict[str, Any], path: str) -> ErrorList:
    errs: ErrorList = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in SUPPORTED_PORT_PROTOCOLS:
        errs.append(
            FieldError.not_supported(f"{path}.protocol", protocol, SUPPORTED_PORT_PROTOCOLS)
        )
    number = port.get("port")
    end = port.get("endPort")
    if number is not None:
        errs += port_num_or_name(number, f"{path}.port")
    if end is not None:
        if not is_int(number):
            errs.append(
                FieldError.invalid(
                    f"{path}.endPort", end, "may not be specified when `port` is non-numeric"
                )
                if number is not None
                else FieldError.required(
                    f"{path}.port", "must be specified when `endPort` is specified"
                )
            )
        elif is_int(end) and end < number:
            errs.append(
                FieldError.invalid(
                    f"{path}.endPort", end, "must be greater than or equal to `port`"
                )
            )
        if is_int(end):
            errs += [FieldError.invalid(f"{path}.endPort", end, m) for m in is_valid_port_num(end)]
    return errs


def validate_network_policy(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = validate_label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(as_list(spec.get(direction))):
            rule = as_dict(rule)
            rp = f"spec.{direction}[{i}]"
            for j, port in enumerate(as_list(rule.get("ports"))):
                errs += _validate_np_port(as_dict(port), f"{rp}.ports[{j}]")
            for j, peer in enumerate(as_list(rule.get(peers_key))):
                errs += _validate_peer(as_dict(peer), f"{rp}.{peers_key}[{j}]")
    types = as_list(spec.get("policyTypes"))
    for i, ptype in enumerate(types):
        if ptype not in ("Ingress", "Egress"):
            errs.append(
                FieldError.not_supported(f"spec.policyTypes[{i}]", ptype, ["Egress", "Ingress"])
            )
    if len(types) > 2:
        errs.append(
            FieldError.invalid(
                "spec.policyTypes", types, "may not specify more than two policyTypes"
            )
        )
    return errs


# --- EndpointSlice ---------------------------------------------------------------------------

_ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]
_MAX_ENDPOINTS = 1000
_MAX_ADDRESSES = 100
_MAX_PORTS = 20000


def _validate_address(address: str, address_type: Any, path: str) -> ErrorList:
    if address_type == "IPv4":
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            return [FieldError.invalid(path, address, "must be a valid IPv4 address")]
    elif address_type == "IPv6":
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return [FieldError.invalid(path, address, "must be a valid IPv6 address")]
    elif address_type == "FQDN":
        return [FieldError.invalid(path, address, m) for m in is_dns1123_subdomain(address)]
    return []


def validate_endpoint_slice(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    address_type = obj.get("addressType")
    if address_type in (None, ""):
        errs.append(FieldError.required("addressType"))
    elif address_type not in _ADDRESS_TYPES:
        errs.append(FieldError.not_supported("addressType", address_type, _ADDRESS_TYPES))
    endpoints = as_list(obj.get("endpoints"))
    if len(endpoints) > _MAX_ENDPOINTS:
        errs.append(
            FieldError(
                "FieldValueTooMany",
                "endpoints",
                f"must have at most {_MAX_ENDPOINTS} items",
                len(endpoints),
                True,
            )
        )
    for i, endpoint in enumerate(endpoints):
        endpoint = as_dict(endpoint)
        ep = f"endpoints[{i}]"
        addresses = as_list(endpoint.get("addresses"))
        if not addresses:
            errs.append(FieldError.required(f"{ep}.addresses", "must contain at least 1 address"))
        elif len(addresses) > _MAX_ADDRESSES:
            errs.append(
                FieldError(
                    "FieldValueTooMany",
                    f"{ep}.addresses",
                    f"must have at most {_MAX_ADDRESSES} items",
                    len(addresses),
                    True,
                )
            )
        for j, address in enumerate(addresses):
            errs += _validate_address(str(address), address_type, f"{ep}.addresses[{j}]")
        hostname = endpoint.get("hostname")
        if hostname:
            errs += [
                FieldError.invalid(f"{ep}.hostname", hostname, m)
                for m in is_dns1123_label(hostname)
            ]
        node_name = endpoint.get("nodeName")
        if node_name:
            errs += [
                FieldError.invalid(f"{ep}.nodeName", node_name, m)
                for m in is_dns1123_subdomain(node_name)
            ]
    ports = as_list(obj.get("ports"))
    if len(ports) > _MAX_PORTS:
        errs.append(
            FieldError(
                "FieldValueTooMany",
                "ports",
                f"must have at most {_MAX_PORTS} items",
                len(ports),
                True,
            )
        )
    names: set[str] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        pp = f"ports[{i}]"
        name = port.get("name") or ""
        if name:
            errs += [FieldError.invalid(f"{pp}.name", name, m) for m in is_dns1123_label(name)]
        if name in names:
            errs.append(FieldError.duplicate(f"{pp}.name", name))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in SUPPORTED_PORT_PROTOCOLS:
            errs.append(
                FieldError.not_supported(f"{pp}.protocol", protocol, SUPPORTED_PORT_PROTOCOLS)
            )
        number = port.get("port")
        if is_int(number):
            errs += [FieldError.invalid(f"{pp}.port", number, m) for m in is_valid_port_num(number)]
    return errs


def validate_endpoint_slice_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    return immutable(new.get("addressType"), old.get("addressType"), "addressType")
