"""Encryption at rest for Secrets: an AES-256-GCM value transformer.

Stored values under the encrypted prefixes read ``k8s:enc:aesgcm:v1:<key name>:`` followed by a
12-byte random nonce and the ciphertext with its tag, the same envelope shape Kubernetes' aesgcm
provider writes. The storage key is bound into the authenticated data, so a ciphertext copied to
another key does not decrypt. Values written before encryption was enabled (plain JSON) are still
read, and are encrypted on their next write.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from skiff.api import resources
from skiff.apiserver.objects import collection_prefix

__all__ = ["DEFAULT_ENCRYPTED_PREFIXES", "AesGcmTransformer", "DecryptError"]


def _secrets_prefix() -> str:
    info = resources.by_resource("", "v1", "secrets")
    assert info is not None
    return collection_prefix(info, None)


DEFAULT_ENCRYPTED_PREFIXES = (_secrets_prefix(),)


class DecryptError(Exception):
    """A stored value could not be decrypted (wrong key or corrupted data)."""


class AesGcmTransformer:
    """Encrypts values whose key starts with one of ``prefixes``; others pass through."""

    def __init__(
        self,
        key: bytes,
        *,
        key_name: str = "key1",
        prefixes: tuple[str, ...] = DEFAULT_ENCRYPTED_PREFIXES,
    ) -> None:
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self._header = f"k8s:enc:aesgcm:v1:{key_name}:".encode()
        self.prefixes = prefixes

    def _covered(self, key: str) -> bool:
        return key.startswith(self.prefixes)

    def passthrough(self, prefix: str) -> bool:
        """True when no value under ``prefix`` is transformed (lets watches skip decoding)."""
        return not any(p.startswith(prefix) or prefix.startswith(p) for p in self.prefixes)

    def to_storage(self, key: str, data: bytes) -> bytes:
        if not self._covered(key):
            return data
        nonce = os.urandom(12)
        return self._header + nonce + self._aead.encrypt(nonce, data, key.encode())

    def from_storage(self, key: str, data: bytes) -> bytes:
        if not data.startswith(b"k8s:enc:"):
            return data
        if not data.startswith(self._header):
            raise DecryptError(f"{key}: stored with an encryption key this server does not have")
        body = data[len(self._header) :]
        try:
            return self._aead.decrypt(body[:12], body[12:], key.encode())
        except InvalidTag:
            raise DecryptError(f"{key}: stored value fails authentication") from None
