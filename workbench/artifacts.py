"""Content-addressed artifact store: files named by their SHA-256, written atomically.

Paths are built only from hex digests, never from names a user typed or uploaded. A write goes to a
temporary file in the same folder, is fsynced and renamed into place, so a crash leaves either the
whole file or nothing visible. Every read verifies the digest, so a damaged file is reported instead
of being trained on.

A temporary file is locked (``flock``) by its writer until it is in place, so the partial files of
a writer that died (its locks go with it) can be removed while other processes, on this machine or
other cluster workers on the shared folder, are still writing theirs.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pipelines.errors import NotFound, WorkbenchError

__all__ = ["ArtifactStore", "ArtifactCorrupt", "sha256_file"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
_NEW_FILE_GRACE = 600.0  # seconds: a new-* file is renamed microseconds after it is created


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
        tmp_path, raw = self._locked_part()
        try:
            with raw:  # closed (and so unlocked) only once the file is in place or removed
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

    def _locked_part(self) -> tuple[Path, BinaryIO]:
        """A new temporary file, locked, named ``part-*`` only once locked: a sweep never sees an
        unlocked ``part-*`` of a living writer (a ``new-*`` is left only by a death in between)."""
        fd, new_name = tempfile.mkstemp(dir=self.tmp, prefix="new-")
        raw = os.fdopen(fd, "w+b")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            part = Path(new_name).with_name("part-" + Path(new_name).name.removeprefix("new-"))
            os.replace(new_name, part)
        except BaseException:
            raw.close()
            Path(new_name).unlink(missing_ok=True)
            raise
        return part, raw

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
        """Remove the temporary files of writers that died mid-write; returns how many.

        A file whose lock is held belongs to a writer still at work (in this process, another one,
        or a cluster worker sharing the folder) and is kept, so this is safe at any time."""
        removed = 0
        for leftover in self.tmp.glob("part-*"):
            try:
                fd = os.open(leftover, os.O_RDWR)  # write access: NFS grants an exclusive lock only then
            except FileNotFoundError:
                continue  # its writer finished meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                leftover.unlink(missing_ok=True)
                removed += 1
            finally:
                os.close(fd)
        for leftover in self.tmp.glob("new-*"):  # a death between creating and locking (see writer)
            try:
                if time.time() - leftover.stat().st_mtime > _NEW_FILE_GRACE:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
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
