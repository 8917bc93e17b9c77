"""Webhook secrets at rest: encrypted under the installation's webhook key.

A receiver checks our signature with its secret, so we must be able to compute the same
HMAC later: the secret is kept, not hashed. It is sealed with AES-256-GCM under a key
derived (HKDF-SHA256) from ``ZONES_WEBHOOK_KEY`` (or the key made in the state folder), and
bound to the webhook's name, so a sealed secret copied onto another webhook does not open.
Whoever holds only the database cannot sign as this service.
"""

from __future__ import annotations

import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
NONCE_BYTES = 12
_INFO = b"zones webhook secrets/1"


class SecretUnreadable(ValueError):
    """A sealed secret that the installation's key does not open (the key was changed)."""


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, shown to the admin once."""
    return PREFIX + secrets.token_urlsafe(32)


def _aead(key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return AESGCM(derived)


def seal(key: str, name: str, secret: str) -> bytes:
    """``secret`` encrypted for the webhook ``name``: nonce, then ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(key).encrypt(nonce, secret.encode(), name.encode())


def unseal(key: str, name: str, sealed: bytes) -> str:
    """The secret of webhook ``name``; :class:`SecretUnreadable` if the key does not fit."""
    try:
        plain = _aead(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], name.encode())
    except InvalidTag:
        raise SecretUnreadable(
            f"the secret of webhook {name!r} cannot be opened with this installation's "
            "webhook key: rotate its secret"
        ) from None
    return plain.decode()
