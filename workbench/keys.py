"""The installation's secret key, kept in the data folder, and keys derived from it.

Pseudonyms must be stable within a project (the same patient number gets the same token in every
upload, so tables can still be joined) but must not be reversible from the database alone: the key
lives in ``<data dir>/secret.key`` (mode 0600), outside the database, and each project gets its
own derived key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from workbench.context import Workbench

__all__ = ["installation_key", "project_pseudonym_key"]

_KEY_FILE = "secret.key"


def installation_key(data_path: Path) -> bytes:
    path = data_path / _KEY_FILE
    if not path.exists():
        data_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
    key = path.read_bytes()
    if len(key) != 32:
        raise RuntimeError(f"{path} is damaged (expected 32 bytes); restore it from the backup of the data folder")
    return key


def project_pseudonym_key(workbench: Workbench, project_id: int) -> bytes:
    return hmac.new(installation_key(workbench.data_path), f"pseudonym:project:{project_id}".encode(), hashlib.sha256).digest()
