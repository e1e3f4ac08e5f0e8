"""Every hostile file ends in its specific message (or reads, with the right warnings).

The expectation table is data (``tests/data/hostile/expected.json``, written by
``tests/data/make_corpus.py`` from its ``EXPECTED`` table). Memory stays bounded while reading,
nothing is written outside a private temporary folder, and random bytes only ever produce the
workbench's own errors.
"""

from __future__ import annotations

import json
import resource
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.errors import IngestError, WorkbenchError
from pipelines.ingest import IngestResult, ReadOptions, read_table
from workbench.i18n import catalogue, t

DATA = Path(__file__).resolve().parents[2] / "data"
HOSTILE = DATA / "hostile"
EXPECTED: dict[str, dict] = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
PEAK_BYTES = 64 << 20  # per file, Python-level allocations


def test_corpus_is_complete_and_small() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 40
    assert sum(p.stat().st_size for p in HOSTILE.iterdir()) < 5 * 2**20


def test_corpus_generator_reproduces_committed_files(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", DATA / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path)
    # Zip, gzip and Parquet writers stamp times and versions, so byte equality is checked on text files.
    for name in ("ragged_more_fields.csv", "unclosed_quote.csv", "cp949_korean.csv", "random_bytes.bin"):
        assert (tmp_path / name).read_bytes() == (HOSTILE / name).read_bytes()
    assert json.loads((tmp_path / "expected.json").read_text(encoding="utf-8")) == EXPECTED


def _check(path: Path, expected: dict, options: ReadOptions) -> None:
    tracemalloc.start()
    try:
        if "error" in expected:
            with pytest.raises(IngestError) as err:
                read_table(path, filename=path.name, options=options)
            assert err.value.key == expected["error"]
            # The message exists in both languages and every placeholder is filled.
            for lang in ("en", "ko"):
                assert err.value.key in catalogue(lang)
                text = t(err.value.key, lang, **err.value.params)
                assert "{" not in text, text
        else:
            result = read_table(path, filename=path.name, options=options)
            assert isinstance(result, IngestResult) and result.frame.shape[0] > 0
            assert sorted({w.key for w in result.warnings}) == sorted(expected["ok"])
            for warning in result.warnings:
                assert "{" not in t(warning.key, "ko", **warning.params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{path.name}: {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = EXPECTED[name]
    options = ReadOptions(**expected.get("options", {}))
    # Nothing may be left behind: point the temporary folder at an empty one and check it after.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _check(HOSTILE / name, expected, options)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 200, f"{name} raised peak RSS by {grown_mib:.0f} MiB"
    assert list(scratch.iterdir()) == []


def test_big_hostile_files(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", DATA / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.build_big(tmp_path)
    for name, outcome in expected.items():
        _check(tmp_path / name, outcome, ReadOptions())


_EXTENSIONS = st.sampled_from(["x.csv", "x.xlsx", "x.parquet", "x.sav", "x.dta", "x.txt", "x.bin", "x.csv.gz", "x"])
_PREFIXES = st.sampled_from(
    [b"", b"PK\x03\x04", b"PAR1", b"$FL2", b"<stata_dta>", b"\x1f\x8b", b"\xef\xbb\xbf", b"\xff\xfe", b"a,b\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=_PREFIXES,
    body=st.binary(max_size=1500),
    filename=_EXTENSIONS,
    encoding=st.sampled_from([None, None, "utf-8", "utf-16", "utf-16-be", "cp949", "latin-1"]),
    header_row=st.sampled_from([None, None, 0, 1, 3]),
)
def test_random_bytes_only_raise_workbench_errors(
    prefix: bytes, body: bytes, filename: str, encoding: str | None, header_row: int | None
) -> None:
    options = ReadOptions(max_bytes=1 << 20, encoding=encoding, header_row=header_row)
    try:
        result = read_table(prefix + body, filename=filename, options=options)
    except WorkbenchError as err:
        assert err.key in catalogue("en") and err.key in catalogue("ko")
    else:
        assert isinstance(result, IngestResult)


_CSVISH = st.text(alphabet=',;\t"\n\r .-?0123456789eE+NA/가나:', max_size=400)


@settings(max_examples=150, deadline=None)
@given(text=_CSVISH, encoding=st.sampled_from(["utf-8", "cp949", "utf-16"]))
def test_random_delimited_text_only_raises_workbench_errors(text: str, encoding: str) -> None:
    try:
        result = read_table(text.encode(encoding), filename="x.csv")
    except WorkbenchError as err:
        assert err.key in catalogue("en") and err.key in catalogue("ko")
    else:
        assert result.frame.shape[0] > 0 and result.frame.shape[1] == len(result.columns)
