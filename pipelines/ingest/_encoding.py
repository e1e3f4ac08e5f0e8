"""Text encodings of hospital exports, and a UTF-8 copy for the CSV parser when needed.

Korean hospital systems still export CP949 (a superset of EUC-KR); Excel's "Unicode text" is
UTF-16. Latin-1 decodes any byte sequence, so it is never guessed: guessing it would turn Korean
column names into mojibake without any error.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from pipelines.errors import IngestError

__all__ = ["detect_encoding", "normalise_encoding", "transcode_to_utf8", "ENCODING_LABELS"]

_SAMPLE = 1 << 20
_CHUNK = 1 << 22

ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp949": "CP949 / EUC-KR",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "cp1252": "Windows-1252",
}

_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf_8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "utf-16be": "utf-16-be",
    "cp949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
    "euc-kr": "cp949",
    "euckr": "cp949",
    "euc_kr": "cp949",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
}


def normalise_encoding(name: str) -> str:
    """The canonical name of an encoding the user picked; EUC-KR is read as its superset CP949."""
    canonical = _ALIASES.get(name.strip().lower())
    if canonical is None:
        raise IngestError("ingest.unknown_encoding_name", encoding=name, choices=sorted(set(_ALIASES.values())))
    return canonical


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file judged from its first megabyte.

    Raises ``ingest.nul_bytes`` for text with NUL bytes that is not UTF-16, and
    ``ingest.unknown_encoding`` when neither UTF-8 nor CP949 fits.
    """
    sample = head[:_SAMPLE]
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if len(sample) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if len(sample) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
        line = sample[: sample.index(b"\x00")].count(b"\n") + 1
        raise IngestError("ingest.nul_bytes", line=line)
    truncated = len(head) > len(sample)
    if _decodes(sample, "utf-8", truncated):
        return "utf-8"
    if _decodes(sample, "cp949", truncated):
        return "cp949"
    raise IngestError("ingest.unknown_encoding")


def _decodes(sample: bytes, encoding: str, truncated: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(sample, final=not truncated)
    except UnicodeDecodeError:
        return False
    return True


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Stream ``source`` into a UTF-8 copy, never holding the whole file as text.

    A decoding failure names the line, because a file that is mostly CP949 with one pasted UTF-8
    line (or the reverse) is common and the user can fix that one line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeError as exc:  # UnicodeDecodeError, or UTF-16 without a BOM
                start = getattr(exc, "start", 0)
                bad_line = line + chunk[:start].count(b"\n")
                raise IngestError(
                    "ingest.invalid_encoding_at",
                    encoding=ENCODING_LABELS.get(encoding, encoding),
                    line=bad_line,
                ) from None
            if "\x00" in text:
                raise IngestError("ingest.nul_bytes", line=line + text[: text.index("\x00")].count("\n"))
            if text.startswith("\ufeff") and dst.tell() == 0:
                text = text[1:]
            dst.write(text.encode("utf-8"))
            line += text.count("\n")
            if final:
                break
