"""Image reference parsing and normalisation (containerd's rules: docker.io, library/, :latest),
and the refusal of malformed references. Excludes: lookups in the store (test_image_store)."""

from __future__ import annotations

import pytest

from skiff.runtime.images.base import ImagePullError
from skiff.runtime.images.reference import InvalidReference, parse_reference

CASES = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox:1.36", "docker.io/library/busybox:1.36"),
    ("docker.io/busybox:1.36", "docker.io/library/busybox:1.36"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("skiff-test/busybox:1.0", "docker.io/skiff-test/busybox:1.0"),
    ("127.0.0.1:5000/web:1.0", "127.0.0.1:5000/web:1.0"),
    ("localhost/a/b/c", "localhost/a/b/c:latest"),
    ("registry.example.com/team/app:v2.1-rc1", "registry.example.com/team/app:v2.1-rc1"),
    ("quay.io/x/y@sha256:" + "a" * 64, "quay.io/x/y@sha256:" + "a" * 64),
    ("x/y:t@sha256:" + "b" * 64, "docker.io/x/y:t@sha256:" + "b" * 64),
]


@pytest.mark.parametrize(("text", "normal"), CASES, ids=[c[0][:40] for c in CASES])
def test_normalises(text: str, normal: str) -> None:
    assert str(parse_reference(text)) == normal


def test_parts() -> None:
    r = parse_reference("127.0.0.1:5000/team/web:1.0")
    assert (r.domain, r.path, r.tag, r.digest) == ("127.0.0.1:5000", "team/web", "1.0", "")
    assert r.name == "127.0.0.1:5000/team/web"
    assert r.reference == "1.0"
    d = parse_reference("web@sha256:" + "c" * 64)
    assert d.tag == "" and d.reference == "sha256:" + "c" * 64


@pytest.mark.parametrize(
    "text", ["", "Busybox:1", "busybox:", "a//b", "busybox@sha256:xyz", "-x:1", "a:b:c:d"]
)
def test_refused(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(text)
    assert issubclass(InvalidReference, ImagePullError)
