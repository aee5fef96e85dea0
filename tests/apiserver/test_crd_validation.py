"""Schema validation of custom resources as Kubernetes 1.32 does it, unit by unit: the static
cost estimate of ``x-kubernetes-validations`` rules (per rule and per CRD, with upstream's
messages), the runtime cost meter and budget, ratcheting of unchanged values on update (schema
errors and CEL rules without ``oldSelf``), the restrictions on ``metadata`` in CRD schemas and
the schema's ``metadata.name`` restrictions applied to objects, and the Kubernetes CEL library
functions (strings, lists, regex, URLs, quantities, IPs/CIDRs, sets, format, optionals)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from skiff.apiserver import crdcel, crdcelcost
from skiff.apiserver.crdcel import check_rules, validate_rules
from skiff.apiserver.crdcelcost import cost_error_message, estimate, max_cardinality
from skiff.apiserver.crdschema import check_schema, validate_object

ROOT = "spec.versions[0].schema.openAPIV3Schema"
MATCH_ALL = "self.all(x, x.matches('^[a-z]+$'))"


def list_schema(rule: str, **bounds: int) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if "maxLength" in bounds:
        items["maxLength"] = bounds["maxLength"]
    names: dict[str, Any] = {
        "type": "array",
        "items": items,
        "x-kubernetes-validations": [{"rule": rule}],
    }
    if "maxItems" in bounds:
        names["maxItems"] = bounds["maxItems"]
    return {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"names": names}}},
    }


def messages(errors: list[Any]) -> list[str]:
    return [f"{e.field}: {e.detail}" for e in errors]


# --------------------------------------------------------------------------- static cost


def test_unbounded_list_of_unbounded_strings_is_refused_with_upstreams_words() -> None:
    got = messages(check_rules(list_schema(MATCH_ALL), ROOT))
    rule = f"{ROOT}.properties[spec].properties[names].x-kubernetes-validations[0].rule"
    hint = (
        "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where "
        "arrays, maps, and strings are declared)"
    )
    assert got == [
        f"{rule}: estimated rule cost exceeds budget by factor of more than 100x {hint}",
        f"{rule}: contributed to estimated rule cost total exceeding cost limit for entire "
        "OpenAPIv3 schema",
        f"{ROOT}: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 "
        f"schema exceeds budget by factor of more than 100x {hint}",
    ]


def test_bounded_list_is_accepted_and_each_bound_alone_is_not_enough() -> None:
    assert check_rules(list_schema(MATCH_ALL, maxItems=100, maxLength=63), ROOT) == []
    assert check_rules(list_schema(MATCH_ALL, maxItems=100), ROOT) != []
    assert check_rules(list_schema(MATCH_ALL, maxLength=63), ROOT) != []
    # cheap rules need no bounds at all
    assert check_rules(list_schema("size(self) < 10"), ROOT) == []


def test_estimate_grows_with_bounds_and_cardinality_multiplies() -> None:
    from skiff.apiserver.crdcel import _program_ast

    small = {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 10}}
    big = {"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 10}}
    ast = _program_ast(MATCH_ALL)
    assert estimate(ast, big) > 50 * estimate(ast, small) > 0
    # a rule on the items of an unbounded list is priced as often as items fit a request
    item_rule = {
        "type": "object",
        "properties": {
            "xs": {
                "type": "array",
                "items": {
                    "type": "string",
                    "maxLength": 1000,
                    "x-kubernetes-validations": [{"rule": "self.matches('^[a-z]+$')"}],
                },
            }
        },
    }
    assert max_cardinality({"type": "string"}) == 3 * 1024 * 1024 // 3
    assert check_rules(item_rule, ROOT) != []
    item_rule["properties"]["xs"]["maxItems"] = 10
    assert check_rules(item_rule, ROOT) == []


def test_estimate_lands_where_kubernetes_does() -> None:
    # Kubernetes' documented example: x == 5 over an unbounded list of integers is accepted,
    # the same over an unbounded list of lists of integers is not
    ints = {"type": "array", "items": {"type": "integer"}}
    flat = {"type": "object", "properties": {"xs": ints}}
    ints["x-kubernetes-validations"] = [{"rule": "self.all(x, x == 5)"}]
    assert check_rules(flat, ROOT) == []
    nested = {
        "type": "object",
        "properties": {
            "xs": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.all(x, x.all(y, y == 5))"}],
            }
        },
    }
    assert check_rules(nested, ROOT) != []
    # measured against kube-apiserver: self.all(x, x.contains(...)) over strings of
    # maxLength 63 is accepted up to about 333,000 items (30 units per item)
    rule = "self.all(x, x.contains('gpu'))"
    assert check_rules(list_schema(rule, maxItems=320_000, maxLength=63), ROOT) == []
    assert check_rules(list_schema(rule, maxItems=345_000, maxLength=63), ROOT) != []


def test_cost_error_message_factors() -> None:
    assert "factor of 1.200000x" in cost_error_message("estimated rule cost", 12, 10)
    assert "factor of 3.5x" in cost_error_message("estimated rule cost", 35, 10)
    assert "factor of more than 100x" in cost_error_message("estimated rule cost", 10**9, 10)


def test_rule_checks_at_crd_write() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {
                "type": "integer",
                "x-kubernetes-validations": [
                    {"rule": "self > 0", "optionalOldSelf": True},
                    {"rule": "self > 0", "messageExpression": "'x' +"},
                ],
            }
        },
    }
    got = messages(check_rules(schema, ROOT))
    where = f"{ROOT}.properties[a].x-kubernetes-validations"
    assert got[0] == f"{where}[0].optionalOldSelf: may not be set if oldSelf is not used in rule"
    assert got[1].startswith(f"{where}[1].messageExpression: compilation failed")


# --------------------------------------------------------------------------- runtime cost


def test_runtime_per_call_limit_stops_a_runaway_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = list_schema("self.all(x, self.all(y, x != y || true))", maxItems=200, maxLength=5)
    monkeypatch.setattr(crdcel, "PER_CALL_LIMIT", 2_000)
    obj = {"spec": {"names": [f"n{i}" for i in range(100)]}}
    started = time.monotonic()
    got = messages(validate_rules(schema, obj, None))
    assert time.monotonic() - started < 5
    assert got == [
        "spec.names: 'operation cancelled: actual cost limit exceeded': no further validation "
        "rules will be run due to call cost exceeds limit for rule: "
        "self.all(x, self.all(y, x != y || true))"
    ]
    # a list small enough stays within the limit
    assert validate_rules(schema, {"spec": {"names": ["a", "b"]}}, None) == []


def test_runtime_budget_is_shared_by_all_rules_of_an_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "xs": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "integer",
                    "x-kubernetes-validations": [{"rule": "self >= 0 && self < 1000"}],
                },
            }
        },
    }
    monkeypatch.setattr(crdcel, "RUNTIME_BUDGET", 100)
    got = messages(validate_rules(schema, {"xs": list(range(50))}, None))
    assert got[-1].endswith(
        "validation failed due to running out of cost budget, no further validation rules "
        "will be run"
    )
    assert len(got) == 1
    monkeypatch.setattr(crdcel, "RUNTIME_BUDGET", 10_000)
    assert validate_rules(schema, {"xs": list(range(50))}, None) == []


def test_runtime_wall_clock_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crdcel, "RUNTIME_SECONDS", 0.0)
    got = messages(validate_rules(list_schema("size(self) > 0"), {"spec": {"names": ["a"]}}, None))
    assert got == [
        "spec.names: validation failed due to running out of cost budget, no further "
        "validation rules will be run"
    ]


def test_meter_counts_like_cel_go_per_element() -> None:
    meter = crdcelcost.CostMeter(10**9)
    crdcel._evaluate("self.all(x, x > 0)", {"self": crdcel.json_to_cel([1, 2, 3])}, meter)
    # self, the call, then per element: x, >, and the loop's condition and step
    assert meter.spent == 2 + 3 * 4


def test_evaluation_errors_read_as_upstream() -> None:
    schema = {
        "type": "object",
        "properties": {
            "m": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "x-kubernetes-validations": [{"rule": "self['missing'] > 0", "message": "m!"}],
            }
        },
    }
    got = messages(validate_rules(schema, {"m": {"a": 1}}, None))
    assert len(got) == 1 and got[0].startswith("m: ") and got[0].endswith("evaluating rule: m!")
    # unlike a false result, an evaluation error is not ratcheted (as upstream)
    assert messages(validate_rules(schema, {"m": {"a": 1}}, {"m": {"a": 1}})) == got


# --------------------------------------------------------------------------- ratcheting


def cel_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "a": {
                        "type": "string",
                        "x-kubernetes-validations": [{"rule": "self.startsWith('ok')"}],
                    },
                    "b": {
                        "type": "string",
                        "x-kubernetes-validations": [{"rule": "self == oldSelf"}],
                    },
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "v": {
                                    "type": "integer",
                                    "x-kubernetes-validations": [{"rule": "self < 10"}],
                                },
                            },
                        },
                    },
                },
            }
        },
    }


def test_cel_rules_ratchet_unchanged_values() -> None:
    schema = cel_schema()
    old = {"spec": {"a": "bad", "b": "x", "items": [{"name": "p", "v": 50}]}}
    # create: both failures are reported
    assert messages(validate_rules(schema, old, None)) == [
        "spec.a: failed rule: self.startsWith('ok')",
        "spec.items[0].v: failed rule: self < 10",
    ]
    # update leaving them as they were (a list item moved, correlated by its key): accepted
    new = {"spec": {"a": "bad", "b": "x", "items": [{"name": "q", "v": 1}, {"name": "p", "v": 50}]}}
    assert validate_rules(schema, new, old) == []
    # a changed value is checked again
    new["spec"]["a"] = "worse"
    new["spec"]["items"][1]["v"] = 60
    assert messages(validate_rules(schema, new, old)) == [
        "spec.a: failed rule: self.startsWith('ok')",
        "spec.items[1].v: failed rule: self < 10",
    ]
    # transition rules are never ratcheted
    new = {"spec": {"a": "bad", "b": "y", "items": [{"name": "p", "v": 50}]}}
    assert messages(validate_rules(schema, new, old)) == ["spec.b: failed rule: self == oldSelf"]


def test_schema_errors_ratchet_unchanged_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 3},
                    "count": {"type": "integer", "minimum": 1},
                    "tags": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "pattern": "^[a-z]+$"},
                    },
                },
            }
        },
    }
    old = {"spec": {"name": "toolong", "count": 0, "tags": {"a": "BAD"}}}
    assert len(validate_object(schema, old)) == 3
    new = {"spec": {"name": "toolong", "count": 0, "tags": {"a": "BAD", "b": "ok"}}}
    assert validate_object(schema, new, old) == []
    new["spec"]["count"] = -1
    new["spec"]["tags"]["c"] = "ALSO"
    assert messages(validate_object(schema, new, old)) == [
        "spec.count: spec.count in body should be greater than or equal to 1",
        "spec.tags[c]: spec.tags[c] in body should match '^[a-z]+$'",
    ]


# --------------------------------------------------------------------------- metadata


def crd_schema(metadata: dict[str, Any], **others: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"metadata": metadata, **others}}


FORBIDDEN = (
    f"{ROOT}.properties[metadata]: must not specify anything other than name and "
    "generateName, but metadata is implicitly specified"
)


def test_root_metadata_may_only_restrict_name_and_generate_name() -> None:
    name_only = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}}}
    assert check_schema(crd_schema(name_only), ROOT) == []
    both = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}},
    }
    assert check_schema(crd_schema(both), ROOT) == []
    assert check_schema(crd_schema({"type": "object"}), ROOT) == []
    labels = {"type": "object", "properties": {"labels": {"type": "object"}}}
    assert messages(check_schema(crd_schema(labels), ROOT)) == [FORBIDDEN]
    described = {"type": "object", "description": "meta"}
    assert messages(check_schema(crd_schema(described), ROOT)) == [FORBIDDEN]
    assert messages(check_schema(crd_schema({"type": "string"}), ROOT)) == [
        f"{ROOT}.properties[metadata].type: must be object"
    ]
    defaulted = {"type": "object", "properties": {"name": {"type": "string", "default": "x"}}}
    assert messages(check_schema(crd_schema(defaulted), ROOT)) == [
        f"{ROOT}.properties[metadata].properties[name].default: must not be set in top-level "
        "metadata"
    ]
    wrong_kind = crd_schema({"type": "object"}, kind={"type": "integer"})
    assert messages(check_schema(wrong_kind, ROOT)) == [
        f"{ROOT}.properties[kind].type: must be string"
    ]


def test_embedded_resource_metadata_must_be_an_object_but_may_say_more() -> None:
    embedded = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "properties": {
            "apiVersion": {"type": "string"},
            "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}},
        },
    }
    assert check_schema({"type": "object", "properties": {"template": embedded}}, ROOT) == []
    embedded["properties"]["metadata"] = {"type": "array", "items": {"type": "string"}}
    assert messages(
        check_schema({"type": "object", "properties": {"template": embedded}}, ROOT)
    ) == [f"{ROOT}.properties[template].properties[metadata].type: must be object"]


def test_schema_restrictions_of_the_name_apply_to_objects() -> None:
    schema = crd_schema(
        {
            "type": "object",
            "properties": {"name": {"type": "string", "maxLength": 5, "pattern": "^w-"}},
        }
    )
    assert validate_object(schema, {"metadata": {"name": "w-1"}}) == []
    assert messages(validate_object(schema, {"metadata": {"name": "gadget"}})) == [
        "metadata.name: may not be longer than 5",
        "metadata.name: metadata.name in body should match '^w-'",
    ]


# --------------------------------------------------------------------------- library


LIBRARY = [
    ("self.matches('^a') && self.contains('b') && self.endsWith('c')", "abc"),
    ("'%s-%d'.format([self, 3]) == 'abc-3' && '%.2f'.format([1.5]) == '1.50'", "abc"),
    ("self.indexOf('c') == 2 && self.charAt(1) == 'b' && self.upperAscii() == 'ABC'", "abc"),
    ("self.find('[0-9]+') == '12' && self.findAll('[0-9]+') == ['12', '3']", "a12b3"),
    ("[1, 3, 2].max() == 3 && [1, 2].sum() == 3 && [1, 2, 1].lastIndexOf(1) == 2", "x"),
    (
        "url(self).getHost() == 'example.com:8080' && url(self).getPort() == '8080' && "
        "url(self).getScheme() == 'https' && url(self).getEscapedPath() == '/a' && "
        "url(self).getQuery()['b'] == ['c'] && url(self).getHostname() == 'example.com'",
        "https://example.com:8080/a?b=c",
    ),
    (
        "quantity(self).isGreaterThan(quantity('1')) && "
        "quantity(self).add(quantity('500m')).compareTo(quantity('2')) == 0 && "
        "!quantity(self).isInteger() && quantity('2Ki').asInteger() == 2048",
        "1500m",
    ),
    (
        "isIP(self) && ip(self).family() == 4 && ip(self).isLoopback() && "
        "string(ip(self)) == '127.0.0.1' && !isIP('::ffff:1.2.3.4')",
        "127.0.0.1",
    ),
    (
        "cidr(self).containsIP('10.0.0.5') && cidr(self).prefixLength() == 8 && "
        "cidr(self).containsCIDR('10.1.0.0/16') && string(cidr(self).masked()) == '10.0.0.0/8' "
        "&& string(cidr(self).ip()) == '10.1.2.3'",
        "10.1.2.3/8",
    ),
    (
        "sets.contains(['a', 'b'], [self]) && sets.intersects(['a'], [self, 'z']) && "
        "sets.equivalent(['a', 'a'], [self])",
        "a",
    ),
    (
        "!format.dns1123Label().validate(self).hasValue() && "
        "format.dns1123Label().validate('A_B').hasValue()",
        "abc",
    ),
    (
        "optional.of(self).value() == self && !optional.none().hasValue() && "
        "optional.none().orValue('x') == 'x'",
        "abc",
    ),
]


@pytest.mark.parametrize(("rule", "value"), LIBRARY)
def test_library_function(rule: str, value: str) -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string"}}}
    schema["properties"]["v"]["x-kubernetes-validations"] = [{"rule": rule}]
    assert validate_rules(schema, {"v": value}, None) == []
    # and the rule really ran: its negation fails
    schema["properties"]["v"]["x-kubernetes-validations"] = [{"rule": f"!({rule})"}]
    assert len(validate_rules(schema, {"v": value}, None)) == 1


LIBRARY_MORE = [
    "'a,b,c'.split(',') == ['a', 'b', 'c'] && 'a,b,c'.split(',', 2) == ['a', 'b,c'] && "
    "'a,b'.split(',', 0) == [] && 'abc'.substring(1) == 'bc' && 'abc'.substring(0, 1) == 'a' "
    "&& ['a', 'b'].join('-') == 'a-b' && ['a', 'b'].join() == 'ab' && ' x '.trim() == 'x' && "
    "'aXa'.replace('a', 'b') == 'bXb' && 'abc'.charAt(3) == '' && "
    "'abcabc'.indexOf('c', 3) == 5 && ['a'].indexOf('z') == -1 && ['a'].lastIndexOf('z') == -1 "
    "&& 'abca'.lastIndexOf('a') == 3 && [3, 1].min() == 1 && 'aBc'.lowerAscii() == 'abc' && "
    "'a1a2'.findAll('[0-9]', 1) == ['1'] && 'abc'.find('z') == '' && !'abc'.startsWith('b')",
    "isURL('https://x') && !isURL('nope') && url('https://u:p@[::1]:80/p').getHost() == "
    "'[::1]:80' && url('https://h').getPort() == ''",
    "isQuantity('1Gi') && !isQuantity('1Gx') && quantity('1').sub(quantity('2')).sign() == -1 "
    "&& quantity('1.5').asApproximateFloat() == 1.5 && quantity('1').isLessThan(quantity('2')) "
    "&& quantity('2').compareTo(quantity('1')) == 1 && "
    "quantity('1').compareTo(quantity('2')) == -1 && quantity('1').compareTo(quantity('1')) == 0",
    "ip('fe80::1').isLinkLocalUnicast() && ip('ff02::1').isLinkLocalMulticast() && "
    "ip('8.8.8.8').isGlobalUnicast() && ip('::').isUnspecified() && ip('::1').family() == 6 && "
    "!isIP('1.2.3.4%eth0') && !isCIDR('1.2.3.4') && !isCIDR('x/8') && "
    "cidr('10.0.0.0/8').containsIP(ip('10.1.1.1')) && ip.isCanonical('2001:db8::1') && "
    "!ip.isCanonical('2001:DB8::1')",
    "'%x %X %o %b %e %%'.format([255, 255, 8, 5, 1.0]) == 'ff FF 10 101 1.000000e+00 %' && "
    "'%s %s'.format([[1, true], null]) == '[1, true] null' && '%x'.format(['hi']) == '6869' && "
    "'%E'.format([1.0]) == '1.000000E+00'",
    "optional.ofNonZeroValue('').orValue('d') == 'd' && optional.ofNonZeroValue('x').hasValue() "
    "&& optional.of(1).orValue(2) == 1 && format.uuid().validate('nope').hasValue() && "
    "!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue() && "
    "!format.date().validate('2024-01-02').hasValue() && "
    "!format.datetime().validate('2024-01-02T03:04:05Z').hasValue() && "
    "!format.byte().validate('aGk=').hasValue() && !format.uri().validate('https://x').hasValue() "
    "&& !format.qualifiedName().validate('a.b/c').hasValue() && "
    "!format.labelValue().validate('v').hasValue() && "
    "!format.dns1123SubdomainPrefix().validate('a-').hasValue() && "
    "!format.dns1123LabelPrefix().validate('a-').hasValue() && "
    "!format.dns1035LabelPrefix().validate('a-').hasValue() && "
    "!format.dns1123Subdomain().validate('a.b').hasValue() && "
    "format.dns1035Label().validate('1a').value().size() == 1",
]


@pytest.mark.parametrize("rule", LIBRARY_MORE)
def test_more_library_functions(rule: str) -> None:
    test_library_function(rule, "x")


@pytest.mark.parametrize(
    "rule",
    [
        "url(self).getScheme() == ''",
        "quantity(self).isInteger()",
        "quantity('1.5').asInteger() == 1",
        "ip(self).family() == 4",
        "cidr(self).prefixLength() == 1",
        "optional.none().value() == 1",
        "'%d'.format([]) == ''",
        "self.equivalent(['a'])",
        "self.of(1).hasValue()",
        "self.dns1123Label().validate('a').hasValue()",
        "self.validate('a').hasValue()",
        "quantity('1').add('x').isInteger()",
    ],
)
def test_library_errors_fail_the_rule(rule: str) -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string"}}}
    schema["properties"]["v"]["x-kubernetes-validations"] = [{"rule": rule}]
    got = messages(validate_rules(schema, {"v": "not a thing"}, None))
    assert len(got) == 1 and "evaluating rule" in got[0], got


ESTIMATED = {
    "type": "object",
    "properties": {
        "s": {"type": "string", "maxLength": 10},
        "d": {"type": "string", "format": "date"},
        "e": {"type": "string", "enum": ["a", "bcd"]},
        "n": {"x-kubernetes-int-or-string": True},
        "b": {"type": "boolean"},
        "l": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 5}},
        "m": {
            "type": "object",
            "maxProperties": 4,
            "additionalProperties": {"type": "integer"},
        },
        "u": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


@pytest.mark.parametrize(
    "rule",
    [
        "self.b ? self.s : 'x'",
        "([1, 2] + [3]).size() == 3",
        "('a' + self.s).size() > 1",
        "'x' in self.l && self.s in self.m",
        "self.m['k'] > 0 && self.l[0] == 'a'",
        "{'a': 1}.size() == 1",
        "self.l.map(x, x + 'a').size() > 0",
        "self.l.filter(x, x == 'a').size() > 0",
        "self.m.all(k, k == 'a') && self.u.exists(k, self.u[k] == 'b')",
        "has(self.s) && size(self.l) > 0 && !self.b && -1 < 0",
        "self.l.join(',').size() > 0 && self.s.split(',').size() > 0",
        "self.l.isSorted() && self.s.startsWith('a') && self.s.lowerAscii() == 'a'",
        "self.d == '2024-01-01' && self.e == 'a' && self.n == 1 && self.s != self.e",
        "self.l == ['a'] && self.s.matches('a') && self.l.exists_one(x, x == 'a')",
        "int(self.s) > 0 && self.nothing.other == 1 && self.s.indexOf('a') > 0",
        "self.s.findAll('a').size() + self.s.substring(1).size() > 0",
    ],
)
def test_estimate_covers_every_construct(rule: str) -> None:
    from skiff.apiserver.crdcel import _program_ast

    assert 0 < estimate(_program_ast(rule), ESTIMATED) < 10_000_000


def test_unbounded_map_iteration_is_priced_by_request_size() -> None:
    from skiff.apiserver.crdcel import _program_ast

    bounded = estimate(_program_ast("self.m.all(k, k == 'a')"), ESTIMATED)
    unbounded = estimate(_program_ast("self.u.all(k, k == 'a')"), ESTIMATED)
    assert bounded < 100 and unbounded > 10_000 * bounded


def test_non_boolean_result_and_expensive_message_expression(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = list_schema("self.size()", maxItems=200, maxLength=5)
    got = messages(validate_rules(schema, {"spec": {"names": ["a"]}}, None))
    assert got == [
        "spec.names: 'no such overload': call arguments did not match a supported operator, "
        "function or macro signature for rule: self.size()"
    ]
    names = schema["properties"]["spec"]["properties"]["names"]
    names["x-kubernetes-validations"] = [
        {"rule": "size(self) < 2", "messageExpression": "self.map(x, x + x).join(',')"}
    ]
    obj = {"spec": {"names": [f"n{i}" for i in range(50)]}}
    monkeypatch.setattr(crdcel, "PER_CALL_LIMIT", 100)
    assert messages(validate_rules(schema, obj, None)) == [
        "spec.names: no further validation rules will be run due to call cost exceeds limit "
        "for messageExpression: \"self.map(x, x + x).join(',')\""
    ]
    monkeypatch.setattr(crdcel, "RUNTIME_BUDGET", 50)
    assert messages(validate_rules(schema, obj, None)) == [
        "spec.names: messageExpression evaluation failed due to running out of cost budget, "
        "no further validation rules will be run"
    ]


def test_embedded_resources_type_and_object_meta_are_validated() -> None:
    schema = {
        "type": "object",
        "properties": {
            "template": {
                "type": "object",
                "x-kubernetes-embedded-resource": True,
                "x-kubernetes-preserve-unknown-fields": True,
            }
        },
    }
    good = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a.b"}}
    assert validate_object(schema, {"template": good}) == []
    assert validate_object(schema, {"template": {"apiVersion": "v1", "kind": "Pod"}}) == []
    bad = {
        "apiVersion": "a/b/c",
        "kind": "No_Kind",
        "metadata": {"name": "a/b", "labels": {"bad key!": "x"}},
    }
    got = messages(validate_object(schema, {"template": bad}))
    assert got[0] == "template.apiVersion: unexpected GroupVersion string: a/b/c"
    assert got[1].startswith("template.kind: may have mixed case, but should otherwise match: ")
    assert "template.metadata.name: may not contain '/'" in got
    assert any(m.startswith("template.metadata.labels: ") for m in got), got
    got = messages(validate_object(schema, {"template": {"kind": "", "metadata": "x"}}))
    assert got[:2] == ["template.apiVersion: ", "template.kind: "]
    assert got[2].startswith("template.metadata: ")


def test_old_self_only_where_old_values_correlate() -> None:
    immutable = {
        "type": "string",
        "maxLength": 10,
        "x-kubernetes-validations": [{"rule": "self == oldSelf"}],
    }
    item = {"type": "object", "properties": {"k": {"type": "string"}, "v": immutable}}
    schema = {
        "type": "object",
        "properties": {
            "byKey": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["k"],
                "maxItems": 10,
                "items": item,
            },
            "plain": {"type": "array", "maxItems": 10, "items": item},
            "named": {"type": "object", "maxProperties": 10, "additionalProperties": immutable},
            "atomic": {
                "type": "object",
                "x-kubernetes-map-type": "atomic",
                "properties": {"v": immutable},
            },
        },
    }
    got = messages(check_rules(schema, ROOT))
    assert got == [
        f"{ROOT}.properties[plain].items.properties[v].x-kubernetes-validations[0].rule: "
        "oldSelf cannot be used on the uncorrelatable portion of the schema within "
        f"{ROOT}.properties[plain]",
        f"{ROOT}.properties[atomic].properties[v].x-kubernetes-validations[0].rule: "
        "oldSelf cannot be used on the uncorrelatable portion of the schema within "
        f"{ROOT}.properties[atomic]",
    ]


def test_string_functions_charge_their_traversals() -> None:
    meter = crdcelcost.CostMeter(10**9)
    value = crdcel.json_to_cel("a" * 1000)
    crdcel._evaluate("self.matches('^a+$')", {"self": value}, meter)
    # self, the call, then ceil(1001 * 0.1) * ceil(4 * 0.25) for the match
    assert meter.spent == 2 + 101
    meter = crdcelcost.CostMeter(10**9)
    crdcel._evaluate("self.lowerAscii() == self", {"self": value}, meter)
    assert meter.spent >= 100


def test_crd_update_tolerates_the_rule_cost_of_an_unchanged_schema() -> None:
    from skiff.apiserver.crd import validate_crd, validate_crd_update

    def crd(schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "metadata": {"name": "things.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": schema},
                    }
                ],
            },
        }

    # between the per-rule and the per-CRD limits
    pricey = list_schema(MATCH_ALL, maxItems=200_000, maxLength=63)
    old = crd(pricey)
    assert [e.detail[:27] for e in validate_crd(old)] == ["estimated rule cost exceeds"]
    new = crd(pricey)
    new["spec"]["names"]["categories"] = ["all"]
    assert validate_crd_update(new, old) == []
    # a changed schema is priced again
    changed = crd(list_schema(MATCH_ALL, maxItems=200_001, maxLength=63))
    assert [e.detail[:27] for e in validate_crd_update(changed, old)] == [
        "estimated rule cost exceeds"
    ]


def test_root_rules_ratchet_only_when_the_whole_object_is_unchanged() -> None:
    schema = {
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('ok')"}],
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    old = {"metadata": {"name": "bad", "labels": {"a": "1"}}, "spec": {}}
    assert len(validate_rules(schema, old, None)) == 1
    assert validate_rules(schema, dict(old), old) == []
    relabelled = {"metadata": {"name": "bad", "labels": {"a": "2"}}, "spec": {}}
    assert len(validate_rules(schema, relabelled, old)) == 1


def test_rule_shapes_checked_at_crd_write() -> None:
    def check(**rule: Any) -> list[str]:
        schema = {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "a": {"type": "integer"},
                        "m": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "x-kubernetes-validations": [{"rule": "true", **rule}],
                }
            },
        }
        where = f"{ROOT}.properties[spec].x-kubernetes-validations[0]"
        return [m.removeprefix(where) for m in messages(check_rules(schema, ROOT))]

    assert check(rule=" ") == [".rule: rule is not specified"]
    assert check(message=" ") == [".message: message must be non-empty if specified"]
    assert check(message="a\nb") == [".message: message must not contain line breaks"]
    assert check(rule="true &&\ntrue") == [
        ".message: message must be specified if rule contains line breaks"
    ]
    assert check(messageExpression=" ") == [
        ".messageExpression: messageExpression must be non-empty if specified"
    ]
    assert check(fieldPath=".a") == check(fieldPath=".m['x.y']") == check(fieldPath=".m.k") == []
    assert check(fieldPath=".b") == [".fieldPath: fieldPath must be a valid path"]
    assert check(fieldPath=".a.b") == [".fieldPath: fieldPath must be a valid path"]
    assert check(fieldPath="\n") == [
        ".fieldPath: fieldPath must be non-empty if specified",
        ".fieldPath: fieldPath must not contain line breaks",
        ".fieldPath: fieldPath must be a valid path",
    ]


def test_metadata_may_not_be_reasoned_about_in_a_nested_context() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object"}},
        "allOf": [{"properties": {"metadata": {"properties": {"name": {"maxLength": 3}}}}}],
    }
    assert (
        f"{ROOT}.allOf[0].properties[metadata]: must not be specified in a nested context"
        in messages(check_schema(schema, ROOT))
    )
