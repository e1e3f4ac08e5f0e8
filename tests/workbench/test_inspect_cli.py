"""`workbench inspect` reads a file exactly as the upload page does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest import read_table
from workbench.cli import main
from workbench.i18n import message

# five runs of the command in a fresh Python process (each imports the workbench: seconds)
# scheduled with the slow files, not at the run's end (tests/conftest.py)
pytestmark = pytest.mark.slow

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"


def test_json_report_of_the_heart_failure_table(datasets_dir, capsys):
    assert main(["inspect", str(datasets_dir / "heart_failure_clinical_records.csv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 299 and len(report["columns"]) == 13
    assert report["identifier_flags"] == []
    types = {c["name"]: c["type"] for c in report["columns"]}
    assert types["DEATH_EVENT"] == "binary" and types["age"] == "numeric"


def test_cp949_export_with_korean_names(datasets_dir, tmp_path, capsys):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").rename(columns={"age": "나이", "sex": "성별"})
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False, encoding="cp949")
    assert main(["inspect", str(path), "--lang", "ko"]) == 0
    out = capsys.readouterr().out
    assert "CP949" in out and "나이" in out and "299행 x 13열" in out


@pytest.mark.parametrize("name", ["truncated.parquet", "renamed_elf_binary.csv", "empty.csv", "zip_bomb.xlsx", "nul_bytes.csv"])
def test_bad_input_prints_the_page_message_and_exits_2(name, tmp_path):
    path = HOSTILE / name
    if not path.exists():
        pytest.fail(f"hostile corpus file {name} is missing; run tests/data/make_corpus.py")
    with pytest.raises(Exception) as caught:
        read_table(path, filename=name)
    expected = message(caught.value, "en")
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "inspect", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {expected}"
