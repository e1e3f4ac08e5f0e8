"""`workbench recipe suggest` and `workbench recipe apply`: the review step without a browser.

Both read tables with the same reader as the upload page and run the same code as the review
screen (``workbench.services.review.review_frame``), so a recipe written by hand in JSON meets the
same validation messages. Any WorkbenchError ends the command with status 2 (see ``workbench.cli``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from pipelines.errors import InputError
from pipelines.ingest import read_table
from pipelines.recipe import Recipe, suggest_recipe

__all__ = ["register"]

_OUT_FORMATS = (".csv", ".parquet")


def register(commands: argparse._SubParsersAction) -> None:
    recipe = commands.add_parser("recipe", help="suggest a preprocessing recipe, or apply one to a table")
    actions = recipe.add_subparsers(dest="recipe_command", required=True)

    suggest = actions.add_parser("suggest", help="print the suggested recipe and the review warnings for a table")
    suggest.add_argument("data", type=Path, help="the table (CSV, Excel, Parquet, SPSS, SAS, Stata)")
    suggest.add_argument("--target", required=True, help="the outcome column")
    suggest.add_argument("--json", action="store_true", help="print one JSON object (recipe and warnings)")
    suggest.add_argument("--lang", choices=("en", "ko"), default="en", help="language of the messages")
    suggest.set_defaults(run=lambda args: _suggest(args.data, target=args.target, as_json=args.json, lang=args.lang))

    apply = actions.add_parser("apply", help="write the prepared table of a recipe file")
    apply.add_argument("recipe", type=Path, help="the recipe JSON (exported from the workbench or written by hand)")
    apply.add_argument("data", type=Path, help="the table the recipe is for")
    apply.add_argument("--out", type=Path, required=True, help="where to write the prepared table (.csv or .parquet)")
    apply.add_argument("--table", action="append", default=[], metavar="NAME=FILE",
                       help="another table a step refers to by NAME (the long time series); repeatable")
    apply.add_argument("--lang", choices=("en", "ko"), default="en", help="language of the messages")
    apply.set_defaults(run=lambda args: _apply(args.recipe, args.data, out=args.out, tables=args.table, lang=args.lang))


def _read(path: Path):
    if not path.is_file():
        raise InputError("review.cli.no_file", path=str(path))
    return read_table(path, filename=path.name)


def _suggest(data: Path, *, target: str, as_json: bool, lang: str) -> int:
    from workbench.services.review import describe_step, review_frame, warning_id, warning_text

    result = _read(data)
    flagged = [f.column for f in result.identifier_flags]
    recipe = suggest_recipe(result.frame, target=target, identifier_columns=flagged)
    shown = review_frame(result.frame, recipe, identifier_columns=flagged)
    warnings = [{"id": warning_id(w), "key": w.key, "severity": w.severity, "columns": list(w.columns),
                 "params": dict(w.params), "message": warning_text(w, lang)} for w in shown.warnings]
    if as_json:
        print(json.dumps({"recipe": recipe.to_dict(), "warnings": warnings,
                          "rows_in": shown.rows_in, "rows_out": len(shown.prepared.frame)},
                         ensure_ascii=False, indent=2, default=str))
        return 0
    print(recipe.to_json())
    print()
    for number, step in enumerate(recipe.steps, start=1):
        print(f"# {number}. {describe_step(step, lang)}")
    from workbench.i18n import t

    print()
    print(t("review.cli.rows", lang, rows_in=shown.rows_in, rows_out=len(shown.prepared.frame)))
    print(t("review.cli.warnings", lang, count=len(warnings)))
    for item in warnings:
        print(f"  [{item['severity']}] {item['message']}")
    return 0


def _tables(specs: list[str]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise InputError("review.cli.bad_table", value=spec)
        frames[name.strip()] = _read(Path(file.strip())).frame
    return frames


def _apply(recipe_path: Path, data: Path, *, out: Path, tables: list[str], lang: str) -> int:
    from workbench.i18n import t
    from workbench.services.review import flow_labels, review_frame, warning_text

    if out.suffix.lower() not in _OUT_FORMATS:
        raise InputError("review.cli.bad_out", path=str(out), formats=list(_OUT_FORMATS))
    if not recipe_path.is_file():
        raise InputError("review.cli.no_file", path=str(recipe_path))
    recipe = Recipe.from_json(recipe_path.read_text(encoding="utf-8-sig"))
    result = _read(data)
    shown = review_frame(result.frame, recipe, tables=_tables(tables),
                         identifier_columns=[f.column for f in result.identifier_flags])
    frame = shown.prepared.frame
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    print(t("review.cli.written", lang, path=str(out), rows=len(frame), columns=frame.shape[1],
            rows_in=shown.rows_in))
    for row in flow_labels(shown, lang):
        if row["excluded"]:
            print(t("review.cli.excluded", lang, step=row["step"], count=row["excluded"], reason=row["reason"]))
    for warning in shown.warnings:
        print(f"  [{warning.severity}] {warning_text(warning, lang)}")
    return 0
