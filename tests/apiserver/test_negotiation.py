"""Tests for ``skiff.apiserver.negotiation``: Accept parsing and ``as=Kind;g=;v=`` negotiation.

Covers parameter order, case, quoting, q-values and ordering, wildcards and the exact headers
kubectl and the Python client send. Excludes the discovery-specific wrapper (test_discovery).
"""

from __future__ import annotations

import pytest

from skiff.apiserver.negotiation import MediaType, negotiate_as, parse_accept, parse_media_type

KUBECTL_DISCOVERY = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
KUBECTL_TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def test_parse_media_type_params_any_order_and_case() -> None:
    mt = parse_media_type(' Application/JSON ; V=v1 ;AS=Table; g="meta.k8s.io" ')
    assert mt == MediaType("application", "json", {"v": "v1", "as": "Table", "g": "meta.k8s.io"})
    assert mt.mime == "application/json"
    assert (mt.as_kind, mt.group, mt.version) == ("Table", "meta.k8s.io", "v1")


@pytest.mark.parametrize(
    ("text", "q"),
    [("a/b;q=0.5", 0.5), ("a/b;q=1", 1.0), ("a/b;q=7", 1.0), ("a/b;q=junk", 0.0), ("a/b", 1.0)],
    ids=["half", "one", "clamped", "invalid-is-zero", "absent"],
)
def test_parse_media_type_q(text: str, q: float) -> None:
    mt = parse_media_type(text)
    assert mt is not None
    assert mt.q == q
    assert "q" not in mt.params


@pytest.mark.parametrize("text", ["", "json", "/json", "application/", "a/b/c"])
def test_parse_media_type_rejects_junk(text: str) -> None:
    assert parse_media_type(text) is None


def test_bare_star_is_any() -> None:
    assert parse_media_type("*") == MediaType("*", "*")


def test_parse_accept_orders_by_q_then_specificity_keeping_client_order() -> None:
    entries = parse_accept("*/*;q=0.8, text/*, application/json;q=0.9, a/x, a/y;p=1, b/z;q=0")
    assert [e.mime for e in entries] == [
        "a/y",  # q=1, concrete, one parameter
        "a/x",  # q=1, concrete, no parameters
        "text/*",  # q=1 but a wildcard: after the concrete types
        "application/json",
        "*/*",
    ]  # b/z with q=0 is "not acceptable" and dropped


@pytest.mark.parametrize("header", [None, "", "  "])
def test_parse_accept_empty_means_anything(header: str | None) -> None:
    assert parse_accept(header) == [MediaType("*", "*")]


def test_accepts_wildcards() -> None:
    assert MediaType("*", "*").accepts("application/json")
    assert MediaType("application", "*").accepts("application/json")
    assert not MediaType("text", "*").accepts("application/json")
    assert MediaType("application", "json").accepts("Application/Json")
    assert not MediaType("application", "yaml").accepts("application/json")


def _table(accept: str | None) -> str | None:
    return negotiate_as(accept, group="meta.k8s.io", kind="Table", versions=("v1", "v1beta1"))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_TABLE, "v1"),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", "v1beta1"),
        ("application/json", None),
        ("*/*", None),
        (None, None),
        # Plain JSON first in the client's order wins over a later alternative.
        ("application/json;q=1,application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5", None),
        # q-values reorder entries.
        ("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io", "v1"),
        # Unknown versions, kinds or groups are skipped, not errors.
        ("application/json;as=Table;v=v9;g=meta.k8s.io,application/json", None),
        ("application/json;as=Table;v=v9;g=meta.k8s.io", None),
        ("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", None),
        ("application/json;as=Table;v=v1;g=other.io,application/json", None),
        # Only JSON is offered: a protobuf Table request does not match.
        ("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", None),
        ("application/*;as=Table;v=v1;g=meta.k8s.io", "v1"),
    ],
    ids=[
        "kubectl",
        "v1beta1-only",
        "plain-json",
        "star",
        "absent",
        "plain-first",
        "q-reorders",
        "unknown-version-then-json",
        "unknown-version-alone",
        "other-kind",
        "other-group",
        "protobuf",
        "wildcard-subtype",
    ],
)
def test_negotiate_table(accept: str | None, expected: str | None) -> None:
    assert _table(accept) == expected


def test_negotiate_discovery_header() -> None:
    kwargs = {"group": "apidiscovery.k8s.io", "kind": "APIGroupDiscoveryList"}
    assert negotiate_as(KUBECTL_DISCOVERY, versions=("v2", "v2beta1"), **kwargs) == "v2"
    assert negotiate_as(KUBECTL_DISCOVERY, versions=("v2beta1",), **kwargs) == "v2beta1"
    assert negotiate_as(KUBECTL_DISCOVERY, versions=(), **kwargs) is None
