from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

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


_WRITER = """
import sys, time
from workbench.artifacts import ArtifactStore
with ArtifactStore(sys.argv[1]).writer() as (handle, _finish):
    handle.write(b"half of a model")
    handle.flush()
    print("writing", flush=True)
    time.sleep(600)
"""


def writer_process(root):
    process = subprocess.Popen([sys.executable, "-c", _WRITER, str(root)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"
    return process


def test_a_sweep_keeps_the_files_being_written_and_removes_a_dead_writers(tmp_path):
    store = ArtifactStore(tmp_path)
    living, dying = writer_process(tmp_path), writer_process(tmp_path)
    try:
        with store.writer() as (handle, _finish):  # this process's own, open while the sweep runs
            handle.write(b"a figure")
            dying.send_signal(signal.SIGKILL)
            dying.wait(timeout=30)
            assert len(list(store.tmp.glob("part-*"))) == 3
            assert store.clean_partial() == 1  # the killed writer's, whatever the order of the sweep
            assert len(list(store.tmp.glob("part-*"))) == 2
        assert store.get_bytes(_finish.digest) == b"a figure"  # the sweep did not break a running write
        assert store.clean_partial() == 0  # the other process is still writing
        assert len(list(store.tmp.glob("part-*"))) == 1
    finally:
        living.kill()
        living.wait(timeout=30)
        dying.kill()
    assert store.clean_partial() == 1
    assert list(store.tmp.iterdir()) == []


def test_a_file_left_between_creating_and_locking_is_removed_once_old(tmp_path):
    store = ArtifactStore(tmp_path)
    fresh, old = store.tmp / "new-fresh", store.tmp / "new-old"
    fresh.write_bytes(b"")
    old.write_bytes(b"")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert store.clean_partial() == 1
    assert list(store.tmp.iterdir()) == [fresh]


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
