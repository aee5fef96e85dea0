"""The AES-GCM value transformer: round trips, key binding, pass-through and tamper detection."""

from __future__ import annotations

import os

import pytest

from skiff.apiserver.encryption import AesGcmTransformer, DecryptError

KEY = os.urandom(32)
SECRET_KEY = "/registry/core/secrets/default/s"


def test_round_trip_and_envelope() -> None:
    t = AesGcmTransformer(KEY)
    stored = t.to_storage(SECRET_KEY, b'{"data":"x"}')
    assert stored.startswith(b"k8s:enc:aesgcm:v1:key1:") and b'"data"' not in stored
    assert t.from_storage(SECRET_KEY, stored) == b'{"data":"x"}'
    assert t.to_storage(SECRET_KEY, b"same") != t.to_storage(SECRET_KEY, b"same")  # fresh nonce


def test_other_prefixes_pass_through() -> None:
    t = AesGcmTransformer(KEY)
    assert t.to_storage("/registry/core/configmaps/default/c", b"plain") == b"plain"
    assert t.passthrough("/registry/core/configmaps/")
    assert not t.passthrough("/registry/core/secrets/default/")
    assert not t.passthrough("/registry/core/")
    # values written before encryption was switched on are still readable
    assert t.from_storage(SECRET_KEY, b'{"old":1}') == b'{"old":1}'


def test_ciphertext_is_bound_to_its_key_and_checked() -> None:
    t = AesGcmTransformer(KEY)
    stored = t.to_storage(SECRET_KEY, b"payload")
    with pytest.raises(DecryptError):
        t.from_storage("/registry/core/secrets/default/other", stored)
    tampered = stored[:-1] + bytes([stored[-1] ^ 1])
    with pytest.raises(DecryptError):
        t.from_storage(SECRET_KEY, tampered)
    with pytest.raises(DecryptError):
        AesGcmTransformer(os.urandom(32)).from_storage(SECRET_KEY, stored)
    with pytest.raises(ValueError, match="32 bytes"):
        AesGcmTransformer(b"short")
