"""`workbench inspect FILE`: parse a file exactly as the upload page does and report what was found."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.errors import WorkbenchError
from pipelines.ingest import ReadOptions, read_table
from workbench.i18n import message, t

__all__ = ["register"]


def register(commands: argparse._SubParsersAction) -> None:
    inspect = commands.add_parser("inspect", help="read a table as the upload page does and describe it")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--encoding", help="text encoding (default: detect; latin-1 only when given)")
    inspect.add_argument("--sheet", help="Excel sheet name or 0-based number (default: the sheet holding the data)")
    inspect.add_argument("--header-row", type=int, help="0-based row holding the column names (default: detect)")
    inspect.add_argument("--json", action="store_true", help="print JSON (no row values) instead of text")
    inspect.add_argument("--lang", choices=("en", "ko"), default="en", help="language of messages")
    inspect.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from workbench.settings import load_settings

    sheet = int(args.sheet) if args.sheet and args.sheet.isdigit() else args.sheet
    options = ReadOptions(encoding=args.encoding, sheet=sheet, header_row=args.header_row,
                          max_bytes=load_settings().max_upload_mb * 2**20)
    try:
        result = read_table(args.file, filename=args.file.name, options=options)
    except WorkbenchError as error:
        # the same sentence the upload page shows
        print(f"error: {message(error, args.lang)}", file=sys.stderr)
        return 2
    summary = result.to_summary()
    if args.json:
        json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    lang = args.lang
    print(t("inspect.header", lang, file=args.file.name, format=summary["format"].upper(),
            encoding=summary["encoding_label"] or "-", rows=f"{summary['rows']:,}", columns=len(summary["columns"])))
    if summary["sheet_names"]:
        print(t("inspect.sheet", lang, sheet=summary["sheet"], sheets=", ".join(summary["sheet_names"])))
    width = max((len(c["name"]) for c in summary["columns"]), default=6)
    print()
    print(f"  {t('inspect.col.name', lang):<{width}}  {t('inspect.col.type', lang):<12}  {t('inspect.col.missing', lang):>8}  "
          f"{t('inspect.col.codes', lang)}")
    for column in summary["columns"]:
        codes = ", ".join(f"{code} ({n})" for code, n in column["proposed_missing"])
        print(f"  {column['name']:<{width}}  {column['type']:<12}  {column['missing']:>8}  {codes}")
    flags = summary["identifier_flags"]
    print()
    if flags:
        print(t("inspect.flags", lang))
        for flag in flags:
            print(f"  {flag['column']}: {t('ingest.phi.' + flag['category'], lang)} ({flag['evidence']})")
    else:
        print(t("inspect.no_flags", lang))
    for warning in result.warnings:
        print(t("inspect.warning", lang, text=t(warning.key, lang, **warning.params)))
    return 0
