"""The provider's signing keys: one current RSA key signs id_tokens; the two keys retired before
it stay published in JWKS so that tokens they signed still verify. Kept as PEM files under
var/keys/oidc (generated on first use), or given by MOTCUA_OIDC_KEY in production.

No Django imports: the settings read this module."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RETIRED_KEYS_PUBLISHED = 2


def oidc_keys(directory: Path) -> tuple[str, list[str]]:
    """The current private key (PEM) and the retired ones still published."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    current = directory / "current.pem"
    if not current.exists():
        _write_new_key(current)
    retired = sorted(directory.glob("retired-*.pem"))[-RETIRED_KEYS_PUBLISHED:]
    return current.read_text(), [path.read_text() for path in retired]


def oidc_key_rotate(directory: Path) -> Path:
    """Retire the current key and make a new one; running servers pick it up on restart."""
    oidc_keys(directory)
    retired = directory / f"retired-{time.time_ns()}.pem"
    (directory / "current.pem").rename(retired)
    _write_new_key(directory / "current.pem")
    return retired


def _write_new_key(path: Path) -> None:
    """Atomic: concurrent first starts end with one key, never a half-written file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, temporary = tempfile.mkstemp(dir=path.parent)
    try:
        os.write(fd, pem)
        os.close(fd)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first
    finally:
        os.unlink(temporary)
