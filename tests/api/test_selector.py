"""Label and field selectors (``skiff.api.selector``).

Covers label selector parsing (all operators, whitespace, printing order), matching, the error
messages of apimachinery's parser, ``metav1.LabelSelector`` conversion, field selector parsing
with escapes, per-kind selectable fields and field label validation. Excludes how the API server
wires selectors into list/watch (apiserver tests).
"""

from __future__ import annotations

from typing import Any

import pytest

from skiff.api.selector import (
    FieldSelector,
    LabelSelector,
    Operator,
    Requirement,
    SelectorError,
    escape_field_value,
    everything,
    format_label_selector,
    format_labels,
    label_selector_from_object,
    nothing,
    object_fields,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
    supported_field_labels,
    validate_field_selector,
)

# --- label selectors: parse and print -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("   ", "", id="blank"),
        pytest.param("app=web", "app=web", id="equals"),
        pytest.param("app==web", "app==web", id="double-equals"),
        pytest.param("app!=web", "app!=web", id="not-equals"),
        pytest.param("env in (prod,dev)", "env in (dev,prod)", id="in-sorted"),
        pytest.param("env notin (a)", "env notin (a)", id="notin"),
        pytest.param("legacy", "legacy", id="exists"),
        pytest.param("!legacy", "!legacy", id="does-not-exist"),
        pytest.param("gen>1", "gen>1", id="gt"),
        pytest.param("gen<10", "gen<10", id="lt"),
        pytest.param("z=1,a=2", "a=2,z=1", id="sorted-by-key"),
        pytest.param(
            "  app = web ,  tier in ( a , b )  ", "app=web,tier in (a,b)", id="whitespace"
        ),
        pytest.param("app=", "app=", id="empty-value"),
        pytest.param("app=,x", "app=,x", id="empty-value-then-more"),
        pytest.param("a in ()", "a in ()", id="empty-set-means-empty-value"),
        pytest.param("a in (,b)", "a in (,b)", id="leading-comma"),
        pytest.param("a in (in,notin)", "a in (in,notin)", id="keywords-as-values"),
        pytest.param("example.com/app=web", "example.com/app=web", id="prefixed-key"),
        pytest.param("a=b,!c,d notin (e)", "a=b,!c,d notin (e)", id="mixed"),
    ],
)
def test_parse_and_print(text: str, printed: str) -> None:
    sel = parse_label_selector(text)
    assert str(sel) == printed
    assert selector_to_string(sel) == printed
    # Printing is a fixed point.
    assert str(parse_label_selector(printed)) == printed


def test_empty_selector_is_everything() -> None:
    sel = parse_label_selector("")
    assert sel.empty
    assert sel.matches({})
    assert sel.matches({"a": "b"})
    assert not parse_label_selector("a").empty


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        pytest.param("app=web", {"app": "web"}, True, id="eq-match"),
        pytest.param("app=web", {"app": "db"}, False, id="eq-other-value"),
        pytest.param("app=web", {}, False, id="eq-missing"),
        pytest.param("app==web", {"app": "web"}, True, id="double-eq"),
        pytest.param("app!=web", {"app": "db"}, True, id="neq-other"),
        pytest.param("app!=web", {}, True, id="neq-missing-matches"),
        pytest.param("app!=web", {"app": "web"}, False, id="neq-same"),
        pytest.param("env in (a,b)", {"env": "b"}, True, id="in-match"),
        pytest.param("env in (a,b)", {"env": "c"}, False, id="in-other"),
        pytest.param("env in (a,b)", {}, False, id="in-missing"),
        pytest.param("env notin (a,b)", {"env": "c"}, True, id="notin-other"),
        pytest.param("env notin (a,b)", {}, True, id="notin-missing"),
        pytest.param("env notin (a,b)", {"env": "a"}, False, id="notin-member"),
        pytest.param("env", {"env": ""}, True, id="exists-empty-value"),
        pytest.param("env", {}, False, id="exists-missing"),
        pytest.param("!env", {}, True, id="dne-missing"),
        pytest.param("!env", {"env": "x"}, False, id="dne-present"),
        pytest.param("gen>1", {"gen": "2"}, True, id="gt-true"),
        pytest.param("gen>1", {"gen": "1"}, False, id="gt-equal"),
        pytest.param("gen>1", {"gen": "x"}, False, id="gt-not-integer"),
        pytest.param("gen>1", {}, False, id="gt-missing"),
        pytest.param("gen>1", {"gen": " 5"}, False, id="gt-strict-integer-parse"),
        pytest.param("gen>1", {"gen": "1_0"}, False, id="gt-no-underscores"),
        pytest.param("gen<0", {"gen": "-5"}, True, id="lt-negative-label"),
        pytest.param("gen<10", {"gen": "9"}, True, id="lt-true"),
        pytest.param("gen<10", {"gen": "10"}, False, id="lt-equal"),
        pytest.param("app=", {"app": ""}, True, id="empty-value-match"),
        pytest.param("a=1,b=2", {"a": "1", "b": "2"}, True, id="and-both"),
        pytest.param("a=1,b=2", {"a": "1"}, False, id="and-one-missing"),
    ],
)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a b",
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
            id="missing-operator",
        ),
        pytest.param("!a=b", "found '=', expected: ',' or 'end of string'", id="dne-with-value"),
        pytest.param("a=b,", "found '', expected: identifier after ','", id="trailing-comma"),
        pytest.param("a,,b", "found ',', expected: identifier after ','", id="double-comma"),
        pytest.param("=x", "found '=', expected: !, identifier, or 'end of string'", id="no-key"),
        pytest.param("a=b c", "found 'c', expected: ',' or 'end of string'", id="two-values"),
        pytest.param(
            "x in", "unable to parse requirement: found '' expected: '('", id="in-no-paren"
        ),
        pytest.param(
            "a in (b",
            "unable to parse requirement: found '', expected: ',' or ')'",
            id="unclosed-paren",
        ),
        pytest.param(
            "x=(", "unable to parse requirement: found '(', expected: identifier", id="paren-value"
        ),
        pytest.param(
            "a>b",
            'unable to parse requirement: values[0]: Invalid value: "b": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
            id="gt-not-integer",
        ),
        pytest.param(
            "app/=x",
            'unable to parse requirement: <nil>: Invalid value: "app/": name part must be non-empty',
            id="empty-name-part",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_label_selector(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("A/b=c", "prefix part a lowercase RFC 1123 subdomain", id="uppercase-prefix"),
        pytest.param("a/b/c=d", "a qualified name must consist of", id="two-slashes"),
        pytest.param(
            "k" * 64 + "=v", "name part must be no more than 63 characters", id="long-key"
        ),
        pytest.param(
            "-k=v", "name part must consist of alphanumeric characters", id="bad-key-start"
        ),
        pytest.param(
            "a=-x", 'values[0][a]: Invalid value: "-x": a valid label must be', id="bad-value"
        ),
        pytest.param("a=" + "v" * 64, "must be no more than 63 characters", id="long-value"),
        pytest.param("a in (ok,-bad)", 'values[0][a]: Invalid value: "-bad"', id="bad-in-value"),
    ],
)
def test_validation_errors(text: str, fragment: str) -> None:
    with pytest.raises(SelectorError, match=r"^unable to parse requirement: ") as info:
        parse_label_selector(text)
    assert fragment in str(info.value)


def test_requirement_new_validates_value_counts() -> None:
    with pytest.raises(SelectorError, match="exact-match compatibility requires one single value"):
        Requirement.new("a", Operator.EQUALS, ["x", "y"])
    with pytest.raises(SelectorError, match="values set must be empty for exists"):
        Requirement.new("a", Operator.EXISTS, ["x"])
    with pytest.raises(SelectorError, match="exactly one value is required"):
        Requirement.new("a", Operator.GREATER_THAN, [])
    # Several problems aggregate like utilerrors.Aggregate: "[a, b]".
    with pytest.raises(SelectorError) as info:
        Requirement.new("-a", Operator.IN, [])
    assert str(info.value).startswith('[key: Invalid value: "-a": ')


def test_requires_exact_match() -> None:
    sel = parse_label_selector("app=web,tier in (a),x in (a,b)")
    assert sel.requires_exact_match("app") == "web"
    assert sel.requires_exact_match("tier") == "a"
    assert sel.requires_exact_match("x") is None
    assert sel.requires_exact_match("missing") is None


# --- metav1.LabelSelector -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "printed"),
    [
        pytest.param({"matchLabels": {"app": "web"}}, "app=web", id="match-labels"),
        pytest.param({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2", id="sorted"),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "app=web,tier in (a,b)",
            id="labels-and-in",
        ),
        pytest.param(
            {
                "matchExpressions": [
                    {"key": "z", "operator": "NotIn", "values": ["x"]},
                    {"key": "y", "operator": "Exists"},
                    {"key": "x", "operator": "DoesNotExist"},
                ]
            },
            "!x,y,z notin (x)",
            id="other-operators",
        ),
        pytest.param({}, "", id="empty-object"),
        pytest.param({"matchLabels": {}, "matchExpressions": []}, "", id="empty-lists"),
    ],
)
def test_from_object(obj: dict[str, Any], printed: str) -> None:
    assert selector_to_string(obj) == printed
    assert str(label_selector_from_object(obj)) == printed


def test_from_object_semantics() -> None:
    assert label_selector_from_object({}).matches({"anything": "x"})
    none = label_selector_from_object(None)
    assert not none.matches({})
    assert not none.empty
    assert selector_to_string(None) == ""
    sel = label_selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
        }
    )
    assert sel.matches({"app": "web"})
    assert sel.matches({"app": "web", "tier": "fe"})
    assert not sel.matches({"app": "web", "tier": "db"})
    assert not sel.matches({"tier": "fe"})


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
            '"Foo" is not a valid label selector operator',
            id="bad-operator",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
            id="in-without-values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
            id="exists-with-values",
        ),
    ],
)
def test_from_object_errors(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as info:
        label_selector_from_object(obj)
    assert str(info.value) == message


def test_format_helpers() -> None:
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector(None) == "<none>"
    assert (
        format_label_selector({"matchExpressions": [{"key": "a", "operator": "Bad"}]}) == "<error>"
    )
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"
    assert everything().empty
    assert not nothing().matches({})
    assert LabelSelector().matches(None)


# --- field selectors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed", "fields", "expected"),
    [
        pytest.param("", "", {}, True, id="empty"),
        pytest.param("metadata.name=a", "metadata.name=a", {"metadata.name": "a"}, True, id="eq"),
        pytest.param(
            "metadata.name==a", "metadata.name=a", {"metadata.name": "a"}, True, id="double-eq"
        ),
        pytest.param(
            "status.phase!=Running",
            "status.phase!=Running",
            {"status.phase": "Pending"},
            True,
            id="neq",
        ),
        pytest.param(
            "status.phase!=Running",
            "status.phase!=Running",
            {"status.phase": "Running"},
            False,
            id="neq-same",
        ),
        pytest.param("spec.nodeName=", "spec.nodeName=", {}, True, id="empty-matches-missing"),
        pytest.param("spec.nodeName=n1", "spec.nodeName=n1", {}, False, id="missing-field"),
        pytest.param(
            "status.phase=Running,metadata.name=a",
            "metadata.name=a,status.phase=Running",
            {"metadata.name": "a", "status.phase": "Running"},
            True,
            id="and-any-order",
        ),
        pytest.param(
            "metadata.name=a,status.phase=Running",
            "metadata.name=a,status.phase=Running",
            {"metadata.name": "a", "status.phase": "Failed"},
            False,
            id="and-one-fails",
        ),
        pytest.param(
            r"metadata.name=a\,b",
            r"metadata.name=a\,b",
            {"metadata.name": "a,b"},
            True,
            id="escaped-comma",
        ),
        pytest.param(
            r"metadata.name=a\=b",
            r"metadata.name=a\=b",
            {"metadata.name": "a=b"},
            True,
            id="escaped-equals",
        ),
        pytest.param(
            r"metadata.name=a\\b",
            r"metadata.name=a\\b",
            {"metadata.name": "a\\b"},
            True,
            id="escaped-backslash",
        ),
        pytest.param(
            "metadata.name=a,",
            "metadata.name=a",
            {"metadata.name": "a"},
            True,
            id="trailing-comma-ignored",
        ),
    ],
)
def test_field_selector(text: str, printed: str, fields: dict[str, str], expected: bool) -> None:
    sel = parse_field_selector(text)
    assert str(sel) == printed
    assert sel.matches(fields) is expected
    assert parse_field_selector(str(sel)) == sel


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "metadata.name",
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
            id="no-operator",
        ),
        pytest.param(
            "a=b=c",
            "invalid field selector: unescaped character in value: 61",
            id="unescaped-equals",
        ),
        pytest.param(
            r"a=\x", r"invalid field selector: invalid escape sequence: \x", id="bad-escape"
        ),
        pytest.param(
            "a=b\\", "invalid field selector: invalid escape sequence: \\", id="trailing-backslash"
        ),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_field_selector(text)
    assert str(info.value) == message


def test_field_selector_helpers() -> None:
    sel = parse_field_selector("metadata.name=web,status.phase!=Failed")
    assert sel.requires_exact_match("metadata.name") == "web"
    assert sel.requires_exact_match("status.phase") is None
    assert [(r.field, r.operator, r.value) for r in sel.requirements] == [
        ("metadata.name", Operator.EQUALS, "web"),
        ("status.phase", Operator.NOT_EQUALS, "Failed"),
    ]
    assert not sel.empty
    assert FieldSelector().empty
    assert escape_field_value("a,b=c\\") == "a\\,b\\=c\\\\"


_POD = {
    "metadata": {"name": "web-0", "namespace": "default"},
    "spec": {
        "nodeName": "n1",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "hostNetwork": True,
    },
    "status": {
        "phase": "Running",
        "podIP": "10.0.0.9",
        "podIPs": [{"ip": "10.0.0.6"}],
        "nominatedNodeName": "",
    },
}


@pytest.mark.parametrize(
    ("kind", "obj", "expected"),
    [
        pytest.param(
            "Pod",
            _POD,
            {
                "metadata.name": "web-0",
                "metadata.namespace": "default",
                "spec.nodeName": "n1",
                "spec.restartPolicy": "Always",
                "spec.schedulerName": "default-scheduler",
                "spec.serviceAccountName": "default",
                "spec.hostNetwork": "true",
                "status.phase": "Running",
                "status.podIP": "10.0.0.6",
                "status.nominatedNodeName": "",
            },
            id="pod",
        ),
        pytest.param(
            "Pod",
            {},
            {
                "metadata.name": "",
                "metadata.namespace": "",
                "spec.nodeName": "",
                "spec.restartPolicy": "",
                "spec.schedulerName": "",
                "spec.serviceAccountName": "",
                "spec.hostNetwork": "false",
                "status.phase": "",
                "status.podIP": "",
                "status.nominatedNodeName": "",
            },
            id="pod-partial",
        ),
        pytest.param(
            "Event",
            {
                "metadata": {"name": "e1", "namespace": "ns"},
                "involvedObject": {
                    "kind": "Pod",
                    "namespace": "ns",
                    "name": "web-0",
                    "uid": "u1",
                    "apiVersion": "v1",
                    "resourceVersion": "7",
                    "fieldPath": "spec.containers{web}",
                },
                "reason": "Pulled",
                "reportingComponent": "kubelet",
                "type": "Normal",
            },
            {
                "metadata.name": "e1",
                "metadata.namespace": "ns",
                "involvedObject.kind": "Pod",
                "involvedObject.namespace": "ns",
                "involvedObject.name": "web-0",
                "involvedObject.uid": "u1",
                "involvedObject.apiVersion": "v1",
                "involvedObject.resourceVersion": "7",
                "involvedObject.fieldPath": "spec.containers{web}",
                "reason": "Pulled",
                "reportingComponent": "kubelet",
                "source": "kubelet",
                "type": "Normal",
            },
            id="event-source-falls-back-to-reporting-component",
        ),
        pytest.param(
            "Secret",
            {"metadata": {"name": "s"}, "type": "Opaque"},
            {"metadata.name": "s", "metadata.namespace": "", "type": "Opaque"},
            id="secret",
        ),
        pytest.param(
            "Node",
            {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}},
            {"metadata.name": "n1", "metadata.namespace": "", "spec.unschedulable": "true"},
            id="node",
        ),
        pytest.param(
            "Namespace",
            {"metadata": {"name": "ns"}, "status": {"phase": "Active"}},
            {"metadata.name": "ns", "metadata.namespace": "", "status.phase": "Active"},
            id="namespace",
        ),
        pytest.param(
            "ReplicaSet",
            {"metadata": {"name": "rs"}, "status": {"replicas": 3}},
            {"metadata.name": "rs", "metadata.namespace": "", "status.replicas": "3"},
            id="replicaset",
        ),
        pytest.param(
            "ReplicationController",
            {"metadata": {"name": "rc"}},
            {"metadata.name": "rc", "metadata.namespace": "", "status.replicas": "0"},
            id="rc-default-zero",
        ),
        pytest.param(
            "Job",
            {"metadata": {"name": "j"}, "status": {"succeeded": 2}},
            {"metadata.name": "j", "metadata.namespace": "", "status.successful": "2"},
            id="job",
        ),
        pytest.param(
            "CronJob",
            {"metadata": {"name": "c", "namespace": "ns"}, "spec": {"schedule": "* * * * *"}},
            {"metadata.name": "c", "metadata.namespace": "ns"},
            id="cronjob-metadata-only",
        ),
    ],
)
def test_object_fields(kind: str, obj: dict[str, Any], expected: dict[str, str]) -> None:
    assert object_fields(kind, obj) == expected


def test_field_selector_against_object_fields() -> None:
    fields = object_fields("Pod", _POD)
    assert parse_field_selector("spec.nodeName=n1,status.phase!=Succeeded").matches(fields)
    assert not parse_field_selector("spec.nodeName=n2").matches(fields)
    assert parse_field_selector("spec.hostNetwork=true").matches(fields)


@pytest.mark.parametrize(
    ("kind", "text", "converted"),
    [
        pytest.param(
            "Pod",
            "spec.nodeName=n1,status.phase=Running",
            "spec.nodeName=n1,status.phase=Running",
            id="pod",
        ),
        pytest.param("Pod", "spec.host=n1", "spec.nodeName=n1", id="pod-legacy-alias"),
        pytest.param(
            "Event",
            "involvedObject.name=web,reason=Pulled",
            "involvedObject.name=web,reason=Pulled",
            id="event",
        ),
        pytest.param("Secret", "type=Opaque", "type=Opaque", id="secret"),
        pytest.param("Service", "spec.clusterIP!=None", "spec.clusterIP!=None", id="service"),
        pytest.param(
            "Deployment", "metadata.namespace=ns", "metadata.namespace=ns", id="default-meta"
        ),
        pytest.param("Node", "spec.unschedulable=false", "spec.unschedulable=false", id="node"),
    ],
)
def test_validate_field_selector_accepts(kind: str, text: str, converted: str) -> None:
    assert str(validate_field_selector(kind, text)) == converted
    assert str(validate_field_selector(kind, parse_field_selector(text))) == converted


@pytest.mark.parametrize(
    ("kind", "text", "label"),
    [
        pytest.param("Pod", "foo=bar", "foo", id="pod-unknown"),
        pytest.param("Deployment", "status.replicas=1", "status.replicas", id="deployment-status"),
        pytest.param(
            "Node", "metadata.namespace=x", "metadata.namespace", id="node-has-no-namespace"
        ),
        pytest.param(
            "Namespace", "metadata.namespace=x", "metadata.namespace", id="namespace-no-namespace"
        ),
        pytest.param("ConfigMap", "data.x=1", "data.x", id="configmap"),
    ],
)
def test_validate_field_selector_rejects(kind: str, text: str, label: str) -> None:
    with pytest.raises(SelectorError) as info:
        validate_field_selector(kind, text)
    assert str(info.value) == f"field label not supported: {label}"


def test_supported_field_labels() -> None:
    assert supported_field_labels("ConfigMap") == {"metadata.name", "metadata.namespace"}
    assert "status.podIPs" in supported_field_labels("Pod")
    assert supported_field_labels("Job") >= {"status.successful"}
