"""A real SAS7BDAT file (written by ReadStat, see tests/data/sas/SOURCE.md) reads like its CSV source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.errors import IngestError
from pipelines.ingest import read_table
from workbench.i18n import message

SAS = Path(__file__).resolve().parents[2] / "data" / "sas" / "heart_failure.sas7bdat"
CSV = Path(__file__).resolve().parents[3] / "workbench" / "demo" / "heart_failure_clinical_records.csv"


@pytest.fixture(scope="module")
def csv_table():
    return read_table(CSV, filename=CSV.name)


def test_sas7bdat_reads_the_same_values_and_types_as_its_csv(csv_table) -> None:
    table = read_table(SAS, filename=SAS.name)
    assert table.format == "sas7bdat"
    assert table.frame.shape == (299, 13)
    assert table.types == csv_table.types
    assert table.identifier_flags == ()
    pd.testing.assert_frame_equal(table.frame.astype("float64"), csv_table.frame.astype("float64"))


def test_an_independent_reader_agrees_with_the_fixture() -> None:
    # pandas has its own SAS7BDAT parser, unrelated to ReadStat: the file is a real SAS7BDAT, not
    # something only its writer can read back.
    frame = pd.read_sas(SAS, format="sas7bdat")
    assert frame.shape == (299, 13)
    assert frame["DEATH_EVENT"].sum() == 96


def test_a_sas7bdat_renamed_to_csv_is_read_by_its_content() -> None:
    table = read_table(SAS.read_bytes(), filename="export.csv")
    assert table.format == "sas7bdat" and table.frame.shape == (299, 13)
    assert [w.key for w in table.warnings] == ["ingest.extension_mismatch"]


@pytest.mark.parametrize("keep", [100, 2000, 20480])
def test_a_truncated_sas7bdat_says_the_file_is_damaged(keep: int) -> None:
    with pytest.raises(IngestError) as caught:
        read_table(SAS.read_bytes()[:keep], filename="cohort.sas7bdat")
    assert caught.value.key == "ingest.corrupt_statistics_file"
    for lang in ("en", "ko"):
        text = message(caught.value, lang)
        assert "SAS7BDAT" in text and "{" not in text
