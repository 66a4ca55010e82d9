"""A keyed fingerprint of the signing secret: what the journal keeps instead of the secret.

A report rendered while the secret's variable is unset must still recognise the secret where an
automation echoed it (into a header, a body, a path). The journal keeps a random per-run salt and
HMAC-SHA256(salt, secret), cut to 128 bits: a candidate string is tested against it, and the
secret itself is never written. Recovering the secret from it takes one HMAC per guess, as
guessing it from any signature the target received would. A run that rotates its secret keeps
the next secret's fingerprint the same way (``run_secrets`` names both).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

_DIGEST_BYTES = 16
_SALT_BYTES = 16


# (the setting naming the variable, the setting keeping the fingerprint) of each secret a run
# may sign with: the first, and the next of a rotation (``delivery.rotation``).
_SECRET_SETTINGS = (("secret_env", "secret_fingerprint"), ("rotation", "next_secret_fingerprint"))
FINGERPRINT_SETTINGS = tuple(kept for _, kept in _SECRET_SETTINGS)
"""The settings that hold fingerprints: a shared copy of a journal leaves them out."""


def run_secrets(settings: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(variable name, stored fingerprint or None) of each secret the run signed with: the
    first (``HARNESS_SECRET`` unless named), then the next of a rotation."""
    found: list[tuple[str, Any]] = [
        (str(settings.get("secret_env") or "HARNESS_SECRET"), settings.get("secret_fingerprint"))
    ]
    rotation = settings.get("rotation")
    if isinstance(rotation, Mapping) and rotation.get("next_secret_env"):
        found.append((str(rotation["next_secret_env"]), settings.get("next_secret_fingerprint")))
    return found


def fingerprint(secret: str) -> dict[str, str]:
    """``{"salt": hex, "hmac": hex}`` for ``secret``; a new salt each time."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return {"salt": salt.hex(), "hmac": _digest(salt, secret).hex()}


class Fingerprint:
    """A stored fingerprint, ready to test candidates against."""

    def __init__(self, salt: bytes, digest: bytes) -> None:
        self._salt = salt
        self._digest = digest

    @classmethod
    def parse(cls, stored: Any) -> Fingerprint | None:
        """The fingerprint a run's settings hold, or None (none kept, or not one of ours)."""
        if not isinstance(stored, Mapping):
            return None
        try:
            salt = bytes.fromhex(str(stored["salt"]))
            digest = bytes.fromhex(str(stored["hmac"]))
        except (KeyError, ValueError):
            return None
        return cls(salt, digest) if salt and len(digest) == _DIGEST_BYTES else None

    def matches(self, candidate: str) -> bool:
        return hmac.compare_digest(_digest(self._salt, candidate), self._digest)


def _digest(salt: bytes, secret: str) -> bytes:
    return hmac.digest(salt, secret.encode("utf-8", "surrogatepass"), hashlib.sha256)[
        :_DIGEST_BYTES
    ]
