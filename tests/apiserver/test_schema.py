"""Structural decoding (skiff.apiserver.schema): the decoding errors as Kubernetes' JSON decoder
words them (``json: cannot unmarshal ... into Go struct field ...``, ``strict decoding error``),
reported in document order; Warn and Ignore dropping unknown fields; null in a required field
read as a missing one; the unstructured converter's words for the same failures (what a
strategic merge patch answers) and Go's ``%+v`` printing of the patch; a sweep setting every top-level and spec field of every served kind to
a value of the wrong type finds no pydantic wording. The HTTP answers are in test_fidelity.py."""

from __future__ import annotations

from typing import Any

import pytest

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.api.types import field_shape, model_for
from skiff.apiserver.schema import go_format, structural_decode


def _info(group: str, version: str, plural: str) -> ResourceInfo:
    info = resources.by_resource(group, version, plural)
    assert info is not None
    return info


PODS = _info("", "v1", "pods")
HPA_V2 = _info("autoscaling", "v2", "horizontalpodautoscalers")


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}], **spec},
    }


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (
            {"terminationGracePeriodSeconds": "30"},
            "string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64",
        ),
        (
            {"nodeSelector": {"disk": True}},
            "bool into Go struct field PodSpec.spec.nodeSelector of type string",
        ),
        (
            {"overhead": {"cpu": {"n": 1}}},
            "object into Go struct field PodSpec.spec.overhead of type resource.Quantity",
        ),
        (
            {"tolerations": [["x"]]},
            "array into Go struct field PodSpec.spec.tolerations of type v1.Toleration",
        ),
    ],
)
def test_wrong_types_read_as_go_unmarshal_errors(spec: dict[str, Any], words: str) -> None:
    result = structural_decode(PODS, pod(**spec))
    assert result.decode_error == "json: cannot unmarshal " + words
    assert result.errors == []


def test_the_first_wrong_value_in_the_document_is_reported() -> None:
    body = pod(hostNetwork="yes")
    body["spec"] = {"hostNetwork": "yes", "containers": [{"name": 1, "image": "i"}]}
    assert structural_decode(PODS, body).decode_error.endswith(
        "PodSpec.spec.hostNetwork of type bool"
    )
    body["spec"] = {"containers": [{"name": 1, "image": "i"}], "hostNetwork": "yes"}
    assert structural_decode(PODS, body).decode_error.endswith(
        "Container.spec.containers.name of type string"
    )


def test_a_v2_type_is_named_in_its_package() -> None:
    body = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": "web", "maxReplicas": 1},
    }
    assert structural_decode(HPA_V2, body).decode_error == (
        "json: cannot unmarshal string into Go struct field HorizontalPodAutoscalerSpec."
        "spec.scaleTargetRef of type v2.CrossVersionObjectReference"
    )


def test_unknown_fields_by_field_validation() -> None:
    body = pod(bogus=1)
    body["extra"] = {"x": 1}
    strict = structural_decode(PODS, body, field_validation="Strict")
    assert strict.decode_error == (
        'strict decoding error: unknown field "spec.bogus", unknown field "extra"'
    )
    warn = structural_decode(PODS, body, field_validation="Warn")
    assert warn.decode_error == "" and warn.warnings == [
        'unknown field "spec.bogus"',
        'unknown field "extra"',
    ]
    assert "bogus" not in warn.obj["spec"] and "extra" not in warn.obj
    ignore = structural_decode(PODS, body, field_validation="Ignore")
    assert ignore.decode_error == "" and ignore.warnings == [] and "extra" not in ignore.obj


def test_null_in_a_required_field_is_a_missing_field() -> None:
    result = structural_decode(PODS, pod(containers=[{"name": None, "image": "i"}]))
    assert result.decode_error == ""
    assert [str(e) for e in result.errors] == ["spec.containers[0].name: Required value"]


def _wrong_value(annotation: Any) -> Any:
    """A JSON value of another type than ``annotation`` takes."""
    container, inner = field_shape(annotation)
    if container or inner is not None:
        return "not-an-object-or-list"
    text = str(annotation)
    if "bool" in text:
        return "yes"
    if "int" in text or "float" in text:
        return "seven" if "str" not in text else [7]
    return [["nested"]]


def _sweep() -> list[tuple[ResourceInfo, tuple[str, ...], Any]]:
    """For every served kind: each top-level field and each field of its spec, set wrong."""
    cases = []
    for info in resources.RESOURCES:
        model = model_for(info.group, info.version, info.kind)
        if model is None:
            continue
        for name, field in model.model_fields.items():
            alias = field.alias or name
            if alias in ("apiVersion", "kind"):
                continue
            cases.append((info, (alias,), _wrong_value(field.annotation)))
            _, inner = field_shape(field.annotation)
            if alias == "spec" and inner is not None:
                for sub_name, sub in inner.model_fields.items():
                    path = (alias, sub.alias or sub_name)
                    cases.append((info, path, _wrong_value(sub.annotation)))
    return cases


def test_no_pydantic_wording_for_any_wrong_type_of_any_kind() -> None:
    cases = _sweep()
    assert len(cases) > 250
    for info, path, value in cases:
        body: dict[str, Any] = {
            "apiVersion": info.api_version,
            "kind": info.kind,
            "metadata": {"name": "x"},
        }
        holder = body
        for seg in path[:-1]:
            holder = holder.setdefault(seg, {})
        holder[path[-1]] = value
        result = structural_decode(info, body)
        said = [result.decode_error, *(str(e) for e in result.errors)]
        assert result.decode_error.startswith("json: cannot unmarshal "), (info.kind, path, said)
        assert " into Go struct field " in result.decode_error, (info.kind, path, said)
        for phrase in ("Input should", "valid dictionary", "pydantic", "type=", "instance of"):
            assert phrase not in " ".join(said), (info.kind, path, said)


def test_go_format_prints_as_fmt_percent_plus_v() -> None:
    value = {"b": [1, "x", None], "a": {"d": True, "c": 1.5}, "e": 2.0}
    assert go_format(value) == "map[a:map[c:1.5 d:true] b:[1 x <nil>] e:2]"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"nodeSelector": "x"}, "cannot restore map from string"),
        ({"containers": {"name": "c"}}, "cannot restore slice from map"),
        ({"securityContext": ["x"]}, "cannot restore struct from: slice"),
        ({"hostNetwork": "yes"}, "cannot convert string to bool"),
        ({"terminationGracePeriodSeconds": True}, "cannot convert bool to int64"),
    ],
)
def test_the_converters_words_for_a_strategic_patch(spec: dict[str, Any], words: str) -> None:
    result = structural_decode(PODS, pod(**spec))
    assert result.convert_error == words
    assert result.decode_error.startswith("json: cannot unmarshal ")
