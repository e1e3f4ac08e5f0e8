from __future__ import annotations

import hashlib

import pytest

from pipelines.errors import NotFound
from workbench.artifacts import ArtifactCorrupt, ArtifactStore


def test_content_addressed_and_deduplicated(tmp_path):
    store = ArtifactStore(tmp_path)
    digest = store.put_bytes(b"patient table")
    assert digest == hashlib.sha256(b"patient table").hexdigest()
    assert store.put_bytes(b"patient table") == digest
    assert store.get_bytes(digest) == b"patient table"
    assert store.digests() == [digest]
    assert store.path_for(digest).name == digest


def test_damaged_file_is_refused_on_read(tmp_path):
    store = ArtifactStore(tmp_path)
    digest = store.put_bytes(b"original")
    store.path_for(digest).write_bytes(b"tampered")
    with pytest.raises(ArtifactCorrupt) as caught:
        store.get_bytes(digest)
    assert caught.value.key == "artifact.corrupt"


@pytest.mark.parametrize("name", ["../../etc/passwd", "heart.csv", "A" * 64, "", "0" * 63])
def test_paths_are_never_built_from_names(tmp_path, name):
    store = ArtifactStore(tmp_path)
    with pytest.raises(NotFound):
        store.path_for(name)


def test_crash_mid_write_leaves_nothing_visible(tmp_path):
    store = ArtifactStore(tmp_path)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.writer() as (handle, _finish):
            handle.write(b"half a file")
            raise Boom
    assert store.digests() == []
    assert list(store.tmp.iterdir()) == []


def test_partial_files_from_a_killed_process_are_cleaned(tmp_path):
    store = ArtifactStore(tmp_path)
    (store.tmp / "part-abc123").write_bytes(b"left behind by kill -9")
    assert store.clean_partial() == 1
    assert list(store.tmp.iterdir()) == []


def test_tampering_after_a_verified_read_is_still_caught(tmp_path):
    import os

    store = ArtifactStore(tmp_path)
    digest = store.put_bytes(b"x" * 1000)
    store.verified_path(digest)
    path = store.path_for(digest)
    path.write_bytes(b"y" * 1000)
    os.utime(path, ns=(1, 1))  # even with the size kept and the time set back
    with pytest.raises(ArtifactCorrupt):
        store.verified_path(digest)
