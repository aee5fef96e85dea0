"""Checks of the network flags of ``skiff server``/``skiff apiserver``, before anything starts.

``--cluster-cidr`` (pod addresses, split into ``--node-cidr-mask-size`` blocks per node) and
``--service-cidr`` (ClusterIPs) must be valid networks without host bits, must not overlap (a pod
and a Service would get the same address, and traffic to one would reach the other), and the
service range may hold at most 2^20 addresses, as kube-apiserver requires
(``cmd/kube-apiserver/app/options/validation.go``, ``validateClusterIPFlags``: "the mask must be
>= 12" for IPv4, ">= 108" for IPv6). kube-controller-manager likewise refuses a node mask shorter
than the cluster CIDR's.
"""

from __future__ import annotations

import ipaddress

__all__ = ["NetworkFlagError", "check_network_flags", "kubernetes_service_ip"]

_MAX_SERVICE_BITS = 20


class NetworkFlagError(ValueError):
    """A network flag is invalid or contradicts another; the message names the flags and values."""


def _network(flag: str, text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise NetworkFlagError(f"{flag} {text!r} is not a valid CIDR ({e})") from None
        raise NetworkFlagError(f"{flag} {text} has host bits set; did you mean {loose}?") from None


def check_network_flags(*, cluster_cidr: str, service_cidr: str, node_cidr_mask_size: int) -> None:
    """Raise `NetworkFlagError` when the flags cannot make a working cluster (module docstring)."""
    cluster = _network("--cluster-cidr", cluster_cidr)
    service = _network("--service-cidr", service_cidr)
    if cluster.version == service.version and cluster.overlaps(service):
        raise NetworkFlagError(
            f"--cluster-cidr {cluster} and --service-cidr {service} overlap: pod and Service "
            "addresses must come from separate ranges; choose ranges that do not overlap "
            "(the defaults are 10.42.0.0/16 and 10.43.0.0/16)"
        )
    if service.max_prefixlen - service.prefixlen > _MAX_SERVICE_BITS:
        raise NetworkFlagError(
            f"--service-cidr {service} is too large: the prefix must be at least "
            f"/{service.max_prefixlen - _MAX_SERVICE_BITS} for IPv{service.version} addresses"
        )
    if service.num_addresses < 4:
        raise NetworkFlagError(
            f"--service-cidr {service} is too small: it needs room for the kubernetes Service "
            "and at least one more"
        )
    if not cluster.prefixlen <= node_cidr_mask_size < cluster.max_prefixlen:
        raise NetworkFlagError(
            f"--node-cidr-mask-size {node_cidr_mask_size} does not fit --cluster-cidr {cluster}: "
            f"it must be between {cluster.prefixlen} and {cluster.max_prefixlen - 1}"
        )


def kubernetes_service_ip(service_cidr: str) -> str:
    """The first address of the service range: the ``default/kubernetes`` Service's ClusterIP."""
    return str(next(ipaddress.ip_network(service_cidr).hosts()))
