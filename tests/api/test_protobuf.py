"""Tests for skiff.api.protobuf: decoding kubectl's protobuf request bodies into JSON form.

Covers: real bodies captured from kubectl 1.32 (``tests/api/protobuf_fixtures/*.bin``, made by
``tools/capture_kubectl_protobuf.py``) against kubectl's own ``--dry-run=client -o json`` output
for the same command, including key order; hand-encoded bodies for the presence rules, special
types (Time, MicroTime, Duration, IntOrString, Quantity, RawExtension, FieldsV1, bytes), inline
structs, packed and merged fields; malformed input and unsupported envelopes; schema coverage of
every served kind. Excludes the HTTP layer (content negotiation lives in the apiserver).
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from skiff.api import protobuf
from skiff.api.protobuf import MAGIC, MEDIA_TYPE, ProtobufError, decode, supported_kinds
from skiff.api.protobuf._decode import go_duration
from skiff.api.protobuf._schema import SchemaError, build
from skiff.api.resources import RESOURCES, group_versions

FIXTURES = Path(__file__).parent / "protobuf_fixtures"


# --- a tiny protobuf encoder, enough to build test bodies ---------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative ints are sent as 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def vint(number: int, value: int | bool) -> bytes:
    return _varint(number << 3) + _varint(int(value))


def ld(number: int, *parts: bytes | str) -> bytes:
    payload = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def entry(number: int, key: str, value: bytes | str) -> bytes:
    """One map entry (key = 1, value = 2)."""
    return ld(number, ld(1, key), ld(2, value))


def meta(name: str = "x", **extra: bytes) -> bytes:
    """ObjectMeta as gogo writes it: every non-pointer string present, even empty."""
    return ld(1, name) + ld(2, "") + ld(3, "") + ld(8, b"") + b"".join(extra.values())


def envelope(
    api_version: str, kind: str, raw: bytes, *, encoding: str = "", ctype: str = ""
) -> bytes:
    type_meta = ld(1, api_version) + ld(2, kind)
    return MAGIC + ld(1, type_meta) + ld(2, raw) + ld(3, encoding) + ld(4, ctype)


def timestamp(seconds: int, nanos: int = 0) -> bytes:
    return vint(1, seconds) + vint(2, nanos)


# --- real kubectl captures ----------------------------------------------------------------------

CAPTURES = sorted(p.stem for p in FIXTURES.glob("*.json"))


def _key_order(obj: Any) -> Any:
    """The nested key order of a JSON value, to compare Go struct order."""
    if isinstance(obj, dict):
        return [(k, _key_order(v)) for k, v in obj.items()]
    if isinstance(obj, list):
        return [_key_order(v) for v in obj]
    return None


def test_there_are_real_captures() -> None:
    assert len(CAPTURES) >= 20


@pytest.mark.parametrize("name", CAPTURES)
def test_real_kubectl_body_decodes_to_kubectls_json(name: str) -> None:
    body = (FIXTURES / f"{name}.bin").read_bytes()
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    got = decode(body)
    assert got == expected
    assert _key_order(got) == _key_order(expected)


def test_real_capture_deployment_keeps_explicit_zero_replicas() -> None:
    got = decode((FIXTURES / "deployment_zero.bin").read_bytes())
    assert got["spec"]["replicas"] == 0
    assert got["metadata"]["creationTimestamp"] is None
    assert got["spec"]["strategy"] == {}
    assert got["status"] == {}


def test_real_capture_secret_data_is_base64() -> None:
    got = decode((FIXTURES / "secret_generic.bin").read_bytes())
    assert got["data"] == {"k": base64.b64encode(b"v").decode()}


def test_real_capture_auth_can_i() -> None:
    got = decode((FIXTURES / "selfsubjectaccessreview.bin").read_bytes())
    assert got == {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {
            "resourceAttributes": {
                "namespace": "kube-system",
                "verb": "list",
                "resource": "pods",
                "subresource": "log",
            }
        },
        "status": {"allowed": False},
    }


# --- presence rules -----------------------------------------------------------------------------


def test_envelope_sets_kind_and_api_version_first() -> None:
    got = decode(envelope("v1", "ConfigMap", ld(1, meta("c1")) + entry(2, "a", "b")))
    assert list(got) == ["kind", "apiVersion", "metadata", "data"]
    assert got == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "c1", "creationTimestamp": None},
        "data": {"a": "b"},
    }


def test_pointer_scalars_keep_zero_and_false_plain_ones_drop_them() -> None:
    job_spec = (
        vint(1, 0)  # parallelism *int32 = 0
        + vint(10, False)  # suspend *bool = false
        + vint(5, False)  # manualSelector *bool = false
        + ld(9, "")  # completionMode *string = ""
    )
    got = decode(envelope("batch/v1", "Job", ld(1, meta("j")) + ld(2, job_spec)))
    assert got["spec"] == {
        "parallelism": 0,
        "manualSelector": False,
        "completionMode": "",
        "suspend": False,
    }
    pod_spec = (
        vint(11, False) + ld(3, "") + vint(21, False)
    )  # hostNetwork, restartPolicy, automount
    got = decode(envelope("v1", "Pod", ld(1, meta("p")) + ld(2, pod_spec)))
    assert got["spec"] == {"automountServiceAccountToken": False}


def test_fields_without_omitempty_keep_zero_and_null() -> None:
    got = decode(envelope("scheduling.k8s.io/v1", "PriorityClass", ld(1, meta("pc"))))
    assert got["value"] == 0  # json:"value", absent on the wire = Go zero value
    got = decode(envelope("rbac.authorization.k8s.io/v1", "Role", ld(1, meta("r"))))
    assert got["rules"] is None  # json:"rules" on a nil slice


def test_empty_messages_stay_as_empty_objects() -> None:
    deploy_spec = ld(4, ld(1, ""))  # strategy with an empty type
    got = decode(
        envelope("apps/v1", "Deployment", ld(1, meta("d")) + ld(2, deploy_spec) + ld(3, b""))
    )
    assert got["spec"] == {"strategy": {}}
    assert got["status"] == {}


def test_unknown_fields_are_skipped() -> None:
    cm = ld(1, meta("c")) + vint(99, 7) + ld(98, "junk") + entry(2, "a", "b")
    assert decode(envelope("v1", "ConfigMap", cm))["data"] == {"a": "b"}


def test_last_scalar_wins_and_singular_messages_merge() -> None:
    first = ld(1, "a") + ld(3, "ns")
    second = ld(1, "b")
    got = decode(envelope("v1", "ConfigMap", ld(1, first) + ld(1, second)))
    assert got["metadata"] == {"name": "b", "namespace": "ns"}


def test_negative_int32_and_packed_repeated_ints() -> None:
    rule = ld(1, "FailJob") + ld(2, ld(2, "In") + ld(3, _varint(1) + _varint(42)))
    spec = ld(11, ld(1, rule)) + vint(7, -1)  # podFailurePolicy, backoffLimit
    got = decode(envelope("batch/v1", "Job", ld(1, meta("j")) + ld(2, spec)))
    assert got["spec"]["backoffLimit"] == -1
    assert got["spec"]["podFailurePolicy"] == {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {"operator": "In", "values": [1, 42]},
                "onPodConditions": None,
            }
        ]
    }
    # The same list sent unpacked, one varint per element.
    unpacked = ld(2, ld(2, "In") + vint(3, 1) + vint(3, 42))
    spec = ld(11, ld(1, ld(1, "FailJob") + unpacked))
    got = decode(envelope("batch/v1", "Job", ld(1, meta("j")) + ld(2, spec)))
    assert got["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == [1, 42]


def test_inline_structs_are_flattened() -> None:
    volume = ld(1, "cfg") + ld(2, ld(19, ld(1, ld(1, "c1")) + vint(3, 0o644)))
    probe = ld(1, ld(2, ld(1, "/healthz") + ld(2, vint(1, 0) + vint(2, 8080)))) + vint(2, 5)
    container = ld(1, "app") + ld(2, "nginx") + ld(10, probe)
    pod_spec = ld(1, volume) + ld(2, container)
    got = decode(envelope("v1", "Pod", ld(1, meta("p")) + ld(2, pod_spec)))
    assert got["spec"]["volumes"] == [
        {"name": "cfg", "configMap": {"name": "c1", "defaultMode": 420}}
    ]
    assert got["spec"]["containers"][0]["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": 8080},
        "initialDelaySeconds": 5,
    }


# --- special types ------------------------------------------------------------------------------


def test_times() -> None:
    created = ld(8, timestamp(1735689600))  # 2025-01-01T00:00:00Z
    deleted = ld(9, timestamp(0, 5))
    got = decode(envelope("v1", "ConfigMap", ld(1, ld(1, "c") + created + deleted)))
    assert got["metadata"]["creationTimestamp"] == "2025-01-01T00:00:00Z"
    assert got["metadata"]["deletionTimestamp"] == "1970-01-01T00:00:00Z"  # Time drops nanos
    lease = ld(3, timestamp(1735689600, 123_456_789)) + ld(4, b"")
    got = decode(envelope("coordination.k8s.io/v1", "Lease", ld(1, meta("l")) + ld(2, lease)))
    assert got["spec"] == {"acquireTime": "2025-01-01T00:00:00.123456Z", "renewTime": None}


def test_time_out_of_range_is_rejected() -> None:
    body = envelope("v1", "ConfigMap", ld(1, ld(8, vint(1, 1 << 62))))
    with pytest.raises(ProtobufError, match="out of range"):
        decode(body)


def test_quantities_int_or_string_and_bytes() -> None:
    resources = entry(1, "cpu", ld(1, "500m")) + entry(2, "memory", ld(1, "64Mi"))
    container = ld(1, "c") + ld(8, resources)
    pod = ld(1, meta("p")) + ld(2, ld(2, container))
    got = decode(envelope("v1", "Pod", pod))
    assert got["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m"},
        "requests": {"memory": "64Mi"},
    }
    port = ld(1, "http") + vint(3, 80) + ld(4, vint(1, 1) + vint(2, 0) + ld(3, "web"))
    got = decode(envelope("v1", "Service", ld(1, meta("s")) + ld(2, ld(1, port))))
    assert got["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "web"}]
    secret = ld(1, meta("s")) + entry(2, "bin", b"\x00\xff") + ld(3, "Opaque")
    got = decode(envelope("v1", "Secret", secret))
    assert got["data"] == {"bin": "AP8="}
    assert got["type"] == "Opaque"


def test_raw_extension_and_fields_v1_are_parsed_json() -> None:
    data = ld(1, json.dumps({"spec": {"template": {}}}))
    revision = ld(1, meta("r")) + ld(2, data) + vint(3, 2)
    got = decode(envelope("apps/v1", "ControllerRevision", revision))
    assert got["data"] == {"spec": {"template": {}}}
    assert got["revision"] == 2
    managed = ld(1, "kubectl") + ld(2, "Update") + ld(6, "FieldsV1") + ld(7, ld(1, '{"f:data":{}}'))
    got = decode(envelope("v1", "ConfigMap", ld(1, ld(1, "c") + ld(17, managed))))
    assert got["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {}},
        }
    ]


def test_raw_extension_holding_a_protobuf_envelope() -> None:
    inner = envelope("v1", "ConfigMap", ld(1, meta("inner")))
    revision = ld(1, meta("r")) + ld(2, ld(1, inner))
    got = decode(envelope("apps/v1", "ControllerRevision", revision))
    assert got["data"]["kind"] == "ConfigMap"
    assert got["data"]["metadata"]["name"] == "inner"


def test_raw_extension_with_garbage_is_rejected() -> None:
    revision = ld(1, meta("r")) + ld(2, ld(1, b"{not json"))
    with pytest.raises(ProtobufError, match="not JSON"):
        decode(envelope("apps/v1", "ControllerRevision", revision))


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (250_000_000, "250ms"),
        (1_500_000_000, "1.5s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (3_661_001_000_000, "1h1m1.001s"),
        (-2_000_000_000, "-2s"),
    ],
    ids=lambda v: str(v),
)
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_string_list_map_values() -> None:
    extra = entry(5, "scopes", ld(1, "a") + ld(1, "b"))
    spec = ld(3, "alice") + extra
    got = decode(
        envelope("authorization.k8s.io/v1", "SubjectAccessReview", ld(1, meta("s")) + ld(2, spec))
    )
    assert got["spec"] == {"user": "alice", "extra": {"scopes": ["a", "b"]}}


# --- other kinds --------------------------------------------------------------------------------


def test_delete_options_in_any_served_group_version() -> None:
    opts = vint(1, 0) + ld(2, ld(1, "uid-1")) + ld(4, "Foreground") + ld(5, "All")
    for api_version in ("v1", "apps/v1", "meta.k8s.io/v1"):
        got = decode(envelope(api_version, "DeleteOptions", opts))
        assert got == {
            "kind": "DeleteOptions",
            "apiVersion": api_version,
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": "uid-1"},
            "propagationPolicy": "Foreground",
            "dryRun": ["All"],
        }


def test_eviction_binding_and_scale() -> None:
    eviction = ld(1, meta("p")) + ld(2, vint(1, 30))
    got = decode(envelope("policy/v1", "Eviction", eviction))
    assert got["deleteOptions"] == {"gracePeriodSeconds": 30}
    binding = ld(1, meta("p")) + ld(2, ld(1, "Node") + ld(3, "n1"))
    got = decode(envelope("v1", "Binding", binding))
    assert got["target"] == {"kind": "Node", "name": "n1"}
    scale = ld(1, meta("d")) + ld(2, vint(1, 0)) + ld(3, vint(1, 3) + ld(2, "app=web"))
    got = decode(envelope("autoscaling/v1", "Scale", scale))
    assert got["spec"] == {}  # ScaleSpec.replicas is omitempty: zero means "0 replicas"
    assert got["status"] == {"replicas": 3, "selector": "app=web"}


# Kinds no client sends skiff as protobuf: the CRD-style VerticalPodAutoscaler, and
# CustomResourceDefinitions (kubectl and the controllers write them as JSON).
_NO_PROTOBUF = ("autoscaling.k8s.io", "apiextensions.k8s.io")


def test_every_served_kind_has_a_schema() -> None:
    kinds = supported_kinds()
    missing = [
        (r.api_version, r.kind)
        for r in RESOURCES
        if (r.api_version, r.kind) not in kinds and r.group not in _NO_PROTOBUF
    ]
    assert missing == []
    for r in RESOURCES:
        if r.group in _NO_PROTOBUF:
            continue
        for sub in r.subresources:
            if sub.connect:
                continue  # a stream, not a body (kubectl sends query parameters, never protobuf)
            api_version = f"{sub.group}/{sub.version}" if sub.group else r.api_version
            assert (api_version, sub.kind) in kinds
    for gv in group_versions():
        assert (gv.api_version, "DeleteOptions") in kinds
    # The CRD-style VerticalPodAutoscaler has no protobuf form.
    assert ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler") not in kinds


def test_every_served_kind_decodes_an_empty_object() -> None:
    for api_version, kind in sorted(supported_kinds()):
        got = decode(envelope(api_version, kind, b""))
        assert got["kind"] == kind
        assert got["apiVersion"] == api_version


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "magic"),
        (b'{"kind":"ConfigMap"}', "magic"),
        (MAGIC + b"\x0a\x05\x0a\x02v1", "longer than the remaining data"),
        (MAGIC + b"\x0a", "end of data"),
        (MAGIC + b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (MAGIC + b"\x0b", "unsupported wire type"),
        (MAGIC + b"\x00\x00", "field number 0"),
        (MAGIC, "no apiVersion/kind"),
        (envelope("v1", "Frobnicator", b""), "no protobuf decoder for kind 'Frobnicator'"),
        (envelope("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", b""), "send JSON"),
        (envelope("v1", "ConfigMap", b"", encoding="gzip"), "content encoding"),
        (envelope("v1", "ConfigMap", b"", ctype="application/json"), "content type"),
        (envelope("v1", "ConfigMap", vint(1, 5)), "ConfigMap.metadata: got varint"),
        (envelope("v1", "ConfigMap", ld(4, "yes")), "ConfigMap.immutable: got length-delimited"),
        (envelope("v1", "ConfigMap", ld(2, vint(1, 1))), "ConfigMap.data key"),
    ],
    ids=[
        "empty",
        "json",
        "short-length",
        "truncated-key",
        "long-varint",
        "group-wire-type",
        "field-zero",
        "no-type-meta",
        "unknown-kind",
        "crd-kind",
        "gzip",
        "json-content-type",
        "message-as-varint",
        "bool-as-bytes",
        "bad-map-key",
    ],
)
def test_malformed_bodies_raise_protobuf_error(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode(body)


def test_protobuf_error_is_a_value_error() -> None:
    assert issubclass(ProtobufError, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A: x=1:Missing", "unknown type 'Missing'"),
        ("A: x=1 y=1", "number 1 is used twice"),
        ("A: x=1 x=2", "name 'x' is used twice"),
        ("A: x=1:A*", "only scalars"),
        ("A: x=1:^str", "only a singular message"),
        ("A: x=1:i32*!", "'!' applies"),
        ("A: x=one", "cannot parse field"),
        ("  x=1", "continuation line"),
    ],
)
def test_schema_tables_are_checked(text: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        build([("test/v1", text)])


def test_public_api() -> None:
    assert protobuf.__all__ == ["MAGIC", "MEDIA_TYPE", "ProtobufError", "decode", "supported_kinds"]
    assert MEDIA_TYPE == "application/vnd.kubernetes.protobuf"
    assert MAGIC == b"k8s\x00"


def test_builtins_not_used_by_served_kinds_decode_too() -> None:
    # Duration and doubles appear in no served kind today; check them on a synthetic table.
    from skiff.api.protobuf._decode import Schema, decode_message

    messages = build(
        [
            (
                "test/v1",
                "T: d=1:Duration f=2:f64 b=3:bytes* r=4:[]bytes m=5:{i32} q=6:{Quantity} n=7:i64",
            )
        ]
    )
    schema = Schema(messages=messages, kinds={})
    data = (
        ld(1, vint(1, 90_000_000_000))
        + _varint(2 << 3 | 1)
        + struct.pack("<d", 2.5)
        + ld(3, b"")
        + ld(4, b"\x01")
        + ld(5, ld(1, "zero"))
        + ld(6, ld(1, "empty"))
        + vint(7, -5)
    )
    got = decode_message(messages[("test/v1", "T")], data, schema)
    assert got == {
        "d": "1m30s",
        "f": 2.5,
        "b": "",
        "r": ["AQ=="],
        "m": {"zero": 0},
        "q": {"empty": "0"},
        "n": -5,
    }
    with pytest.raises(ProtobufError, match="want varint"):
        decode_message(messages[("test/v1", "T")], ld(1, ld(1, "x")), schema)
