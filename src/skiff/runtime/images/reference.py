"""Image references: parse and normalise ``busybox:1.36`` to ``docker.io/library/busybox:1.36``.

The rules are those of the distribution project's ``reference.ParseNormalizedNamed`` (which
containerd and kubelet use): the first path component is a registry host only when it contains a
``.`` or a ``:`` or is ``localhost``; otherwise the registry is ``docker.io``, and a one-component
name on ``docker.io`` gains ``library/``. A reference without tag or digest means ``:latest``.
(Read, not copied: https://github.com/distribution/reference/blob/v0.6.0/normalize.go)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skiff.runtime.images.base import ImagePullError

__all__ = ["DOCKER_HUB", "InvalidReference", "Reference", "parse_reference"]

DOCKER_HUB = "docker.io"
_LEGACY_HUB_NAMES = ("index.docker.io", "registry-1.docker.io")

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")


class InvalidReference(ImagePullError, ValueError):
    """Not a valid image reference (kubelet's InvalidImageName)."""


@dataclass(frozen=True, slots=True)
class Reference:
    domain: str  # "docker.io", "127.0.0.1:5000"
    path: str  # "library/busybox"
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """``domain/path``: the repository, without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(text: str) -> Reference:
    """Parse and normalise; `InvalidReference` says what is wrong."""
    raw = text.strip()
    if not raw:
        raise InvalidReference("empty image reference")
    remainder, digest = raw, ""
    if "@" in raw:
        remainder, digest = raw.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference(f"invalid digest in image reference {text!r}")
    tag = ""
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidReference(f"invalid tag in image reference {text!r}")
    first, sep, rest = remainder.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
        if not _HOST.match(domain):
            raise InvalidReference(f"invalid registry host in image reference {text!r}")
    else:
        domain, path = DOCKER_HUB, remainder
    if domain in _LEGACY_HUB_NAMES:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or any(not _COMPONENT.match(c) for c in path.split("/")):
        raise InvalidReference(
            f"invalid reference format: repository name must be lowercase: {text!r}"
            if path != path.lower()
            else f"invalid reference format: {text!r}"
        )
    if not tag and not digest:
        tag = "latest"
    return Reference(domain=domain, path=path, tag=tag, digest=digest)
