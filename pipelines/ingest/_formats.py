"""Which kind of file an upload is, judged by its bytes, never by its name.

Hospital exports are routinely mislabelled (an ``.xls`` that is really HTML or CSV, a ``.csv``
that is really an Excel workbook), so the extension is only used to report a mismatch.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipelines.errors import IngestError

__all__ = ["detect_format", "format_for_extension", "FORMATS"]

FORMATS = ("csv", "xlsx", "xls", "parquet", "sav", "sas7bdat", "dta", "gzip")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sav": "sav",
    ".zsav": "sav",
    ".sas7bdat": "sas7bdat",
    ".dta": "dta",
    ".gz": "gzip",
}

_SAS_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")

# Well-known non-table files, named so the message can say what the upload really is.
_FOREIGN = (
    (b"\x7fELF", "executable program (ELF)"),
    (b"MZ", "Windows program"),
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"BM", "bitmap image"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "XZ archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O program"),
    (b"\xcf\xfa\xed\xfe", "Mach-O program"),
)


def format_for_extension(filename: str) -> str | None:
    """The format a file name promises (``data.csv.gz`` promises gzip), or None when unknown."""
    return _EXTENSIONS.get(Path(filename).suffix.lower())


def detect_format(head: bytes, tail: bytes, path: Path) -> str:
    """The format of a file from its first and last bytes (and, for zips, its member list).

    Raises :class:`IngestError` for files that are recognisably not tables, so the user learns
    what they uploaded instead of a parser's complaint.
    """
    if not head:
        raise IngestError("ingest.empty_file")
    if head.startswith(b"PAR1"):
        if not tail.endswith(b"PAR1") or len(tail) < 12:
            raise IngestError("ingest.truncated_parquet")
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"$FL2") or head.startswith(b"$FL3"):
        return "sav"
    if head.startswith(_SAS_MAGIC):
        return "sas7bdat"
    if head.startswith(b"<stata_dta>") or (
        len(head) >= 4 and 102 <= head[0] <= 115 and head[1] in (1, 2) and head[2] == 1 and head[3] == 0
    ):
        return "dta"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    for magic, kind in _FOREIGN:
        # Two-letter magics ("MZ", "BM") also start ordinary headers such as "BMI,age".
        if head.startswith(magic) and (len(magic) > 2 or not _looks_textual(head)):
            raise IngestError("ingest.not_a_table", kind=kind)
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table")):
        raise IngestError("ingest.html_file")
    return "csv"


def _looks_textual(head: bytes) -> bool:
    # "MZ" and "BM" are also how ordinary CSV headers may start ("BMI,age"): a real program or
    # bitmap has control bytes early on, a text header does not.
    sample = head[:256]
    return not any(b < 9 or 13 < b < 32 for b in sample)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise IngestError("ingest.corrupt_zip") from None
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        if "xl/workbook.bin" in names and "xl/workbook.xml" not in names:
            raise IngestError("ingest.xlsb_unsupported")
        return "xlsx"
    if "word/document.xml" in names:
        raise IngestError("ingest.not_a_table", kind="Word document")
    if "ppt/presentation.xml" in names:
        raise IngestError("ingest.not_a_table", kind="PowerPoint presentation")
    if "content.xml" in names:
        raise IngestError("ingest.not_a_table", kind="OpenDocument file")
    raise IngestError("ingest.zip_archive")
