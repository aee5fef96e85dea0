"""What the agent and the runc runtime need from the image store.

``ImageService`` is implemented by ``skiff.runtime.images.store.ImageStore``. The agent resolves a
pod's image with `ensure` (honouring imagePullPolicy and the registry policy) and builds the argv
from `ImageInfo.config`; the runc runtime asks `layer_dirs` for the overlayfs lowerdirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = [
    "ImageConfig",
    "ImageInfo",
    "ImageNotAllowed",
    "ImagePullError",
    "ImageService",
    "RegistryAuth",
]


class ImagePullError(Exception):
    """A pull failed; the message is the registry's (or the network's) words, shown to users in
    ErrImagePull / ImagePullBackOff."""


class ImageNotAllowed(ImagePullError):
    """The registry policy forbids this pull (offline mode or not on the allowlist); raised before
    any DNS lookup or connection. The message names the setting."""


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """Credentials for one registry host (from an imagePullSecret or registries.yaml)."""

    username: str = ""
    password: str = ""
    identity_token: str = ""
    registry_token: str = ""


@dataclass(frozen=True, slots=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # "KEY=value"
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    stop_signal: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    id: str  # "sha256:<config digest>"
    repo_tags: tuple[str, ...]  # normalised: "docker.io/library/busybox:1.36"
    repo_digests: tuple[str, ...]  # "127.0.0.1:5000/web@sha256:..."
    size: int  # bytes on disk (unpacked)
    config: ImageConfig
    layers: tuple[str, ...]  # diff ids ("sha256:..."), bottom first


class ImageService(Protocol):
    def get(self, ref: str) -> ImageInfo | None:
        """The local image a reference names (tag, digest or id), or None."""
        ...

    def images(self) -> list[ImageInfo]: ...

    async def pull(self, ref: str, auth: dict[str, RegistryAuth] | None = None) -> ImageInfo:
        """Fetch ``ref`` (policy first; `ImageNotAllowed` / `ImagePullError`). ``auth`` maps
        registry hosts to credentials from the pod's imagePullSecrets."""
        ...

    async def ensure(
        self, ref: str, pull_policy: str, auth: dict[str, RegistryAuth] | None = None
    ) -> tuple[ImageInfo, bool]:
        """The image for a container: pull per ``pull_policy`` ("Always" | "IfNotPresent" |
        "Never"); returns (image, pulled). "Never" with no local image raises ImagePullError
        (kubelet's ErrImageNeverPull)."""
        ...

    async def import_archive(self, path: Path, tag: str | None = None) -> list[ImageInfo]:
        """Import an OCI layout directory/tar or a ``docker save`` tar."""
        ...

    async def remove(self, ref: str) -> None: ...

    def layer_dirs(self, image_id: str) -> list[Path]:
        """Unpacked layer directories of an image, bottom first (overlayfs lowerdirs reversed)."""
        ...

    def in_use(self, image_ids: set[str]) -> None:
        """Tell the garbage collector which images running containers use."""
        ...

    async def garbage_collect(self, high_percent: int, low_percent: int) -> list[str]:
        """Remove unused images, oldest first, while disk use is above ``high_percent`` until
        below ``low_percent``; returns removed ids."""
        ...
