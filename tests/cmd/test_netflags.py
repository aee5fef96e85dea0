"""The network flag checks ``skiff server``/``skiff apiserver`` run before starting anything.

Covers overlapping cluster and service CIDRs (both named in the message), invalid CIDRs, host
bits, a service range too large or too small, a node mask that does not fit the cluster CIDR,
and that the defaults and other sound combinations pass. That the commands exit non-zero with the
message is in tests/integration/test_ops.py.
"""

from __future__ import annotations

import pytest

from skiff.cmd.netflags import NetworkFlagError, check_network_flags, kubernetes_service_ip


@pytest.mark.parametrize(
    ("cluster", "service", "mask", "message"),
    [
        (
            "10.42.0.0/16",
            "10.42.128.0/17",
            24,
            "--cluster-cidr 10.42.0.0/16 and --service-cidr 10.42.128.0/17 overlap",
        ),
        ("10.0.0.0/8", "10.43.0.0/16", 24, "--cluster-cidr 10.0.0.0/8 and --service-cidr"),
        ("10.42.0.0/16", "10.42.0.0/16", 24, "overlap"),
        ("fd00:42::/56", "fd00:42::/112", 64, "overlap"),
        ("10.42.0.0/33", "10.43.0.0/16", 24, "--cluster-cidr '10.42.0.0/33' is not a valid CIDR"),
        ("10.42.0.0/16", "banana", 24, "--service-cidr 'banana' is not a valid CIDR"),
        (
            "10.42.0.1/16",
            "10.43.0.0/16",
            24,
            "--cluster-cidr 10.42.0.1/16 has host bits set; did you mean 10.42.0.0/16?",
        ),
        ("10.42.0.0/16", "172.0.0.0/8", 24, "--service-cidr 172.0.0.0/8 is too large"),
        ("10.42.0.0/16", "10.43.0.0/31", 24, "too small"),
        ("10.42.0.0/16", "10.43.0.0/16", 8, "--node-cidr-mask-size 8 does not fit"),
        ("10.42.0.0/16", "10.43.0.0/16", 32, "--node-cidr-mask-size 32 does not fit"),
    ],
    ids=[
        "service-inside-cluster",
        "cluster-around-service",
        "same",
        "ipv6-overlap",
        "invalid-cluster",
        "invalid-service",
        "host-bits",
        "service-too-large",
        "service-too-small",
        "mask-too-short",
        "mask-too-long",
    ],
)
def test_refused(cluster: str, service: str, mask: int, message: str) -> None:
    with pytest.raises(NetworkFlagError) as e:
        check_network_flags(cluster_cidr=cluster, service_cidr=service, node_cidr_mask_size=mask)
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("cluster", "service", "mask"),
    [
        ("10.42.0.0/16", "10.43.0.0/16", 24),  # the defaults (k3s')
        ("10.244.0.0/16", "10.96.0.0/12", 24),  # kubeadm's
        ("fd00:42::/56", "fd00:43::/112", 64),
        ("10.42.0.0/16", "fd00:43::/112", 24),  # different families cannot overlap
    ],
    ids=["k3s", "kubeadm", "ipv6", "mixed"],
)
def test_accepted(cluster: str, service: str, mask: int) -> None:
    check_network_flags(cluster_cidr=cluster, service_cidr=service, node_cidr_mask_size=mask)


def test_kubernetes_service_ip() -> None:
    assert kubernetes_service_ip("10.43.0.0/16") == "10.43.0.1"
    assert kubernetes_service_ip("10.96.0.0/12") == "10.96.0.1"
