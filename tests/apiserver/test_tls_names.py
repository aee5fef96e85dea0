"""The names in the API server's serving certificate (skiff.apiserver.tls).

Covers the host's interface addresses read over netlink (the same set ``ip address`` shows, less
link-local ones), that they are in the certificate without any ``--tls-san``, and that a
certificate missing an address the host has now is re-issued while one whose host lost an address
is kept. Serving that certificate to a client that dials an interface address is in
tests/integration/test_ops.py; renewal while running in test_cert_renewal.py.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from skiff.apiserver.tls import ensure_credentials, interface_addresses


def _san(path: Path) -> tuple[set[str], set[str], int]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    return ips, set(san.get_values_for_type(x509.DNSName)), cert.serial_number


def test_interface_addresses_are_what_ip_address_lists() -> None:
    out = subprocess.run(["ip", "-j", "address"], capture_output=True, text=True, check=True)
    expected = {
        a["local"]
        for link in json.loads(out.stdout)
        for a in link.get("addr_info", [])
        if not ipaddress.ip_address(a["local"]).is_link_local
    }
    found = interface_addresses()
    assert set(found) == expected
    assert "127.0.0.1" in found
    assert len(found) == len(set(found))


def test_certificate_covers_the_host_addresses_without_tls_san(tmp_path: Path) -> None:
    creds = ensure_credentials(tmp_path)
    ips, dns, _ = _san(creds.cert_path)
    assert set(interface_addresses()) <= ips
    assert {"127.0.0.1", "10.43.0.1"} <= ips
    assert {"localhost", "kubernetes.default.svc.cluster.local"} <= dns


def test_certificate_is_reissued_when_the_host_gains_an_address(tmp_path: Path) -> None:
    host = ["127.0.0.1", "192.0.2.7"]
    creds = ensure_credentials(tmp_path, host_addresses=lambda: list(host), extra_dns=["x.test"])
    ips, dns, first = _san(creds.cert_path)
    assert "192.0.2.7" in ips and "x.test" in dns

    # unchanged host: the certificate is kept
    ensure_credentials(tmp_path, host_addresses=lambda: list(host), extra_dns=["x.test"])
    assert _san(creds.cert_path)[2] == first

    # a new address (an interface came up, DHCP moved): re-issued, covering old and new
    host.append("2001:db8::5")
    ensure_credentials(tmp_path, host_addresses=lambda: list(host), extra_dns=["x.test"])
    ips, dns, second = _san(creds.cert_path)
    assert second != first
    assert {"192.0.2.7", "2001:db8::5"} <= ips and "x.test" in dns

    # an address that went away does not force a new certificate
    ensure_credentials(tmp_path, host_addresses=lambda: ["127.0.0.1"], extra_dns=["x.test"])
    assert _san(creds.cert_path)[2] == second


def test_running_servers_renewer_adds_a_new_host_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check ``skiff apiserver`` runs hourly (``ApiServerConfig.cert_renewer``) re-issues the
    certificate when the host gained an address, and only then."""
    from skiff.apiserver import tls
    from skiff.cmd.main import _parser, _renew_serving_certificate

    args = _parser().parse_args(["apiserver", "--data-dir", str(tmp_path)])
    assert _renew_serving_certificate(args)  # first start: a certificate is written
    assert not _renew_serving_certificate(args)  # nothing changed: kept
    real = tls.interface_addresses()
    monkeypatch.setattr(tls, "interface_addresses", lambda: [*real, "192.0.2.77"])
    assert _renew_serving_certificate(args)
    ips, _dns, _serial = _san(tmp_path / "server" / "tls" / "serving.crt")
    assert {"192.0.2.77", *real} <= ips
    assert not _renew_serving_certificate(args)
