"""Content-addressed artifact store: files named by their SHA-256, written atomically.

Paths are built only from hex digests, never from names a user typed or uploaded. A write goes to a
temporary file in the same folder, is fsynced and renamed into place, so a crash leaves either the
whole file or nothing visible. Every read verifies the digest, so a damaged file is reported instead
of being trained on.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pipelines.errors import NotFound, WorkbenchError

__all__ = ["ArtifactStore", "ArtifactCorrupt", "sha256_file"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class ArtifactCorrupt(WorkbenchError):
    """A stored file no longer matches its checksum."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._verified: dict[str, tuple[int, int, int]] = {}

    def path_for(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise NotFound("artifact.bad_digest", digest=digest[:80])
        return self.objects / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def put_bytes(self, data: bytes) -> str:
        return self.put_stream([data])

    def put_file(self, path: Path) -> str:
        with open(path, "rb") as handle:
            return self.put_stream(iter(lambda: handle.read(_CHUNK), b""))

    def put_stream(self, chunks: Iterable[bytes]) -> str:
        with self.writer() as (handle, finish):
            for chunk in chunks:
                handle.write(chunk)
        return finish.digest

    @contextmanager
    def writer(self) -> Iterator[tuple[BinaryIO, _Finish]]:
        """Write a new artifact through a file handle; the digest is known after the block."""
        finish = _Finish()
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="part-")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as raw:
                hashing = _HashingWriter(raw)
                yield hashing, finish  # type: ignore[misc]
                raw.flush()
                os.fsync(raw.fileno())
            finish.digest = hashing.hexdigest()
            target = self.path_for(finish.digest)
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                tmp_path.unlink()
            else:
                os.replace(tmp_path, target)
                _fsync_dir(target.parent)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise

    def get_bytes(self, digest: str) -> bytes:
        path = self.verified_path(digest)
        return path.read_bytes()

    def verified_path(self, digest: str) -> Path:
        """The file's path after checking its content still matches the digest.

        A file is hashed again whenever its size or modification time changed since this process
        last verified it, so the viewer's many reads of one large file hash it once.
        """
        path = self.path_for(digest)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise NotFound("artifact.missing", digest=digest) from None
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        if self._verified.get(digest) != stamp:
            if sha256_file(path) != digest:
                self._verified.pop(digest, None)
                raise ArtifactCorrupt("artifact.corrupt", digest=digest)
            self._verified[digest] = stamp
        return path

    def delete(self, digest: str) -> None:
        """Remove an artifact (used only for data a collaborator asked to discard)."""
        self._verified.pop(digest, None)
        self.path_for(digest).unlink(missing_ok=True)

    def clean_partial(self) -> int:
        """Remove temporary files left by a crash mid-write; returns how many."""
        removed = 0
        for leftover in self.tmp.glob("part-*"):
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def digests(self) -> list[str]:
        return sorted(p.name for p in self.objects.glob("??/*") if _DIGEST.match(p.name))


class _Finish:
    digest: str = ""


class _HashingWriter:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        return self._raw.write(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
