"""String-format checks of ``skiff.api.validation.names`` against apimachinery's exact wording.

Covers DNS-1123/1035 names, qualified names, label values, config keys, ports, percents, env
names and the generateName trailing-dash rule; excludes how kinds use them (test_validation.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from skiff.api.validation import names

QUALIFIED_NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)

CASES: list[tuple[str, Callable[[str], list[str]], str, list[str]]] = [
    ("label-ok", names.is_dns1123_label, "my-name", []),
    ("label-digits-first-ok", names.is_dns1123_label, "123-abc", []),
    ("label-dots", names.is_dns1123_label, "a.b", ["must not contain dots"]),
    (
        "label-upper",
        names.is_dns1123_label,
        "Web",
        [
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
            "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ],
    ),
    ("label-too-long", names.is_dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
    ("subdomain-ok", names.is_dns1123_subdomain, "web.example.com", []),
    (
        "subdomain-trailing-dash",
        names.is_dns1123_subdomain,
        "web-",
        [
            names.regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                "or '.', and must start and end with an alphanumeric character",
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                "example.com",
            )
        ],
    ),
    (
        "1035-digit-first",
        names.is_dns1035_label,
        "1abc",
        [
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
            "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
            "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ],
    ),
    ("qualified-ok", names.is_qualified_name, "example.com/MyName", []),
    ("qualified-empty-prefix", names.is_qualified_name, "/x", ["prefix part must be non-empty"]),
    (
        "qualified-empty-name",
        names.is_qualified_name,
        "a.io/",
        ["name part must be non-empty", QUALIFIED_NAME_PART],
    ),
    ("qualified-bad-name", names.is_qualified_name, "-x", [QUALIFIED_NAME_PART]),
    ("label-value-empty-ok", names.is_valid_label_value, "", []),
    ("config-key-dot", names.is_config_map_key, ".", ["must not be '.'"]),
    ("config-key-dotdot", names.is_config_map_key, "..", ["must not be '..'"]),
    ("port-name-ok", names.is_valid_port_name, "http-2", []),
    (
        "port-name-digits",
        names.is_valid_port_name,
        "8080",
        ["must contain at least one letter (a-z)"],
    ),
    ("port-name-long", names.is_valid_port_name, "a" * 16, ["must be no more than 15 characters"]),
    (
        "port-name-hyphen",
        names.is_valid_port_name,
        "-http",
        ["must not begin or end with a hyphen"],
    ),
    ("percent-ok", names.is_valid_percent, "25%", []),
    ("env-relaxed-ok", names.is_env_var_name, "1-weird.NAME", []),
    (
        "env-equals",
        names.is_env_var_name,
        "A=B",
        [
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
        ],
    ),
    ("path-segment", names.is_path_segment_name, "..", ["may not be '..'"]),
    ("path-segment-percent", names.is_path_segment_name, "a%b", ["may not contain '%'"]),
    ("wildcard-ok", names.is_wildcard_dns1123_subdomain, "*.example.com", []),
]


@pytest.mark.parametrize(
    ("check", "value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_name_checks(check: Callable[[str], list[str]], value: str, expected: list[str]) -> None:
    assert check(value) == expected


def test_generate_name_may_end_with_dash() -> None:
    assert names.name_is_dns1123_subdomain("web-", True) == []
    assert names.name_is_dns1123_subdomain("web-", False) != []
    # A lone "-" is not a usable prefix.
    assert names.name_is_dns1123_subdomain("-", True) != []


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (65535, True), (65536, False)])
def test_port_numbers(port: int, ok: bool) -> None:
    assert (names.is_valid_port_num(port) == []) is ok
