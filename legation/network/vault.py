"""The credential vault: account secrets encrypted at rest with Fernet keys that can be rotated.

Keys come from ``LEGATION_VAULT_KEYS`` (comma-separated, newest first; or ``LEGATION_VAULT_KEYS_FILE``) or from
the key ring file ``vault.keys`` in the data directory, created on first use. Decryption tries every key in the
ring; encryption always uses the newest.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class VaultError(Exception):
    pass


def _keyring_path() -> Path:
    return Path(settings.VAULT_KEYRING_PATH)


def load_keys() -> list[bytes]:
    """The key ring, newest first."""
    if settings.VAULT_KEYS_ENV:
        return [key.encode() for key in settings.VAULT_KEYS_ENV]
    path = _keyring_path()
    if not path.exists():
        write_keyring([Fernet.generate_key()])
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
    if not keys:
        raise VaultError(f"the vault key ring {path} is empty")
    return keys


def write_keyring(keys: list[bytes]) -> None:
    """Replace the key ring file atomically, readable by its owner only."""
    path = _keyring_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(key.decode() for key in keys) + "\n")
    os.replace(tmp, path)


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in load_keys()])
    except ValueError as exc:
        raise VaultError(f"a vault key is malformed: {exc}") from exc


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise VaultError("a credential cannot be decrypted with any key in the ring") from exc


def hint(secret: str) -> str:
    """What the UI may show of a secret: its last four characters, and only for long secrets."""
    return f"…{secret[-4:]}" if len(secret) >= 16 else "…"
