"""The viewer's DuckDB queries over a stored Parquet file: paging, typed filters, summaries, safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import InputError, NotFound
from pipelines.ingest import read_table
from pipelines.viewer import (
    Between,
    Contains,
    Equals,
    IsMissing,
    NotEquals,
    NotMissing,
    OneOf,
    column_figure,
    column_summary,
    correlation,
    correlation_figure,
    duplicate_rows,
    missingness_figure,
    missingness_map,
    page,
    quote_identifier,
    search_columns,
)


def _store(frame: pd.DataFrame, path: Path) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


@pytest.fixture(scope="module")
def pima(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    result = read_table(datasets_dir / "pima_diabetes.csv", filename="pima.csv")
    frame = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    return _store(result.frame, tmp_path_factory.mktemp("viewer") / "pima.parquet"), frame


@pytest.fixture(scope="module")
def physionet(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    name = "physionet2012_static_outcomes.csv"
    result = read_table(datasets_dir / name, filename=name)
    return _store(result.frame, tmp_path_factory.mktemp("viewer") / "physionet.parquet"), pd.read_csv(datasets_dir / name)


def test_first_page_and_total(pima) -> None:
    path, frame = pima
    first = page(path, offset=0, limit=10)
    assert first.total_rows == 768 and len(first.frame) == 10
    assert list(first.frame.index) == list(range(10))
    assert first.frame["Glucose"].tolist() == frame["Glucose"].head(10).tolist()
    last = page(path, offset=760, limit=100)
    assert len(last.frame) == 8 and last.frame.index[-1] == 767


def test_sorted_pages_do_not_overlap_and_keep_row_numbers(pima) -> None:
    path, frame = pima
    seen: list[int] = []
    for offset in range(0, 768, 100):
        chunk = page(path, offset=offset, limit=100, sort=[("Glucose", False), ("Age", True)])
        seen += list(chunk.frame.index)
    assert sorted(seen) == list(range(768))  # every row exactly once, ties included
    expected = frame.sort_values(["Glucose", "Age"], ascending=[False, True], kind="stable").index.tolist()
    assert seen == expected


def test_typed_filters_match_pandas(pima) -> None:
    path, frame = pima
    cases = [
        ([Between("BMI", 30, 35)], frame["BMI"].between(30, 35)),
        ([Between("Age", None, 25), Equals("Outcome", 1)], (frame["Age"] <= 25) & (frame["Outcome"] == 1)),
        ([OneOf("Pregnancies", (0, 1, 2))], frame["Pregnancies"].isin([0, 1, 2])),
        ([NotEquals("Glucose", 0)], frame["Glucose"] != 0),
        ([OneOf("Pregnancies", ())], frame["Pregnancies"] < -1),
    ]
    for filters, mask in cases:
        result = page(path, offset=0, limit=1000, filters=filters)
        assert result.total_rows == int(mask.sum())
        assert list(result.frame.index) == list(frame.index[mask])


def test_missing_filters_and_text_search(physionet) -> None:
    path, frame = physionet
    missing = page(path, limit=10, filters=[IsMissing("Height")])
    assert missing.total_rows == int(frame["Height"].isna().sum()) > 0
    present = page(path, limit=10, filters=[NotMissing("Height")])
    assert present.total_rows + missing.total_rows == 8000
    record = int(frame["RecordID"].iloc[1234])
    found = page(path, limit=10, filters=[Contains("RecordID", str(record))])
    assert 1234 in found.frame.index
    searched = page(path, limit=10, search=str(record), columns=["RecordID", "Age"])
    assert list(searched.frame.columns) == ["RecordID", "Age"] and 1234 in searched.frame.index


def test_column_names_cannot_inject_sql(tmp_path: Path) -> None:
    evil = 'x" FROM read_parquet(\'/etc/passwd\'); DROP TABLE t; --'
    frame = pd.DataFrame({evil: [1, 2, 3], "a'b": ["p", "q", "r"], "100%_done": [0.5, None, 1.5]})
    path = _store(frame, tmp_path / "evil.parquet")
    result = page(path, limit=10, sort=[(evil, False)], filters=[Between(evil, 2, None), Contains("a'b", "%")])
    assert result.total_rows == 0  # '%' is a literal percent sign, not a wildcard
    result = page(path, limit=10, sort=[(evil, False)], filters=[Between(evil, 2, None)])
    assert list(result.frame.columns) == [evil, "a'b", "100%_done"] and result.frame[evil].tolist() == [3, 2]
    assert column_summary(path, "100%_done").missing_count == 1
    assert quote_identifier('a"b') == '"a""b"'
    with pytest.raises(InputError) as err:
        page(path, limit=10, sort=[('nope" OR 1=1 --', True)])
    assert err.value.key == "viewer.unknown_column"
    with pytest.raises(InputError) as err:
        page(path, limit=10, filters=["1=1"])  # type: ignore[list-item]
    assert err.value.key == "viewer.bad_filter"


def test_bad_requests_are_workbench_errors(pima, tmp_path: Path) -> None:
    path, _ = pima
    with pytest.raises(InputError) as err:
        page(path, offset=-1, limit=10)
    assert err.value.key == "viewer.bad_page"
    with pytest.raises(InputError) as err:
        page(path, limit=10, filters=[Equals("Age", "old")])
    assert err.value.key == "viewer.filter_type_mismatch"
    with pytest.raises(NotFound):
        page(tmp_path / "gone.parquet", limit=10)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really PAR1")
    with pytest.raises(InputError) as err:
        page(broken, limit=10)
    assert err.value.key == "viewer.unreadable"


def test_column_search(physionet) -> None:
    path, _ = physionet
    assert search_columns(path, "in-hos") == ["In-hospital_death"]
    assert search_columns(path, "") [:2] == ["RecordID", "set"]
    assert search_columns(path, "zzz") == []


def test_column_summary_matches_pandas_and_flags_ranges(pima) -> None:
    path, frame = pima
    summary = column_summary(path, "Glucose")
    assert summary.rows == 768 and summary.missing_count == 0
    assert summary.unique_count == frame["Glucose"].nunique()
    assert (summary.minimum, summary.maximum) == (0.0, 199.0)
    assert summary.median == float(frame["Glucose"].median())
    assert sum(summary.histogram_counts) == 768 and len(summary.histogram_edges) == len(summary.histogram_counts) + 1
    assert summary.range_name == "glucose" and summary.below_range == 5 and summary.above_range == 0
    outcome = column_summary(path, "Outcome")
    assert outcome.range_name is None
    assert column_figure(summary).data[0].type == "bar"


def test_categorical_summary_top_values(datasets_dir: Path, tmp_path: Path) -> None:
    result = read_table(datasets_dir / "gbsg2.csv", filename="gbsg2.csv")
    path = _store(result.frame, tmp_path / "gbsg2.parquet")
    summary = column_summary(path, "tgrade")
    expected = pd.read_csv(datasets_dir / "gbsg2.csv")["tgrade"].value_counts()
    assert dict(summary.top_values) == {str(k): int(v) for k, v in expected.items()}
    assert summary.histogram_counts == ()


def test_missingness_map(physionet) -> None:
    path, frame = physionet
    missing = missingness_map(path, bins=8)
    assert missing.row_starts == tuple(range(0, 8000, 1000))
    height = missing.fractions[missing.columns.index("Height")]
    for block, share in enumerate(height):
        assert share == pytest.approx(frame["Height"].iloc[block * 1000 : (block + 1) * 1000].isna().mean(), abs=1e-4)
    assert missingness_figure(missing).data[0].type == "heatmap"


def test_correlation_matrix(pima) -> None:
    path, frame = pima
    matrix = correlation(path, columns=["Glucose", "BMI", "Age"])
    expected = frame[["Glucose", "BMI", "Age"]].corr().to_numpy()
    assert np.allclose(np.array(matrix.values, dtype=float), expected, atol=1e-6)
    everything = correlation(path)
    assert len(everything.columns) == 9
    assert correlation_figure(everything).data[0].type == "heatmap"


def test_duplicate_rows(pima, tmp_path: Path) -> None:
    path, frame = pima
    assert duplicate_rows(path).duplicate_rows == 0
    doubled = pd.concat([frame, frame.head(5), frame.head(2)], ignore_index=True)
    counted = duplicate_rows(_store(doubled, tmp_path / "dupes.parquet"))
    assert (counted.duplicate_rows, counted.groups, counted.total_rows) == (7, 5, 775)


def test_correlation_with_gaps_is_pairwise_complete(physionet) -> None:
    path, frame = physionet
    names = ["Age", "Height", "Weight", "SAPS-I", "SOFA"]
    matrix = correlation(path, columns=names)
    expected = frame[names].corr(min_periods=3).to_numpy()
    assert np.allclose(np.array(matrix.values, dtype=float), expected, atol=1e-6)
    assert matrix.rows_used == 8000
    sampled = correlation(path, columns=names, max_rows=4000)
    assert 3000 < sampled.rows_used < 5000
    assert np.allclose(np.array(sampled.values, dtype=float), expected, atol=0.1)
