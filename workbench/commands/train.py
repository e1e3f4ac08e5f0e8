"""`workbench train` and `workbench predict`: the training engine headless, for scripts and benchmarks.

No database and no accounts: a file in, a model folder out. Without a recipe the suggested one is
applied (outcome, identifiers, columns recorded after the outcome, imputation, encoding), adjusted
by ``--positive``, ``--group`` and ``--drop``; the recipe travels inside the model's manifest, so
``predict`` applies the same data-level steps to new rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "train_file", "predict_file"]


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train models on a table with the suggested recipe and save the best")
    train.add_argument("data", type=Path, help="the table (CSV, Excel, Parquet, SPSS, SAS, Stata)")
    train.add_argument("--target", required=True, help="the outcome column")
    train.add_argument("--positive", help="the outcome value that counts as the event (binary outcomes)")
    train.add_argument("--group", help="patient ID column: all rows of a patient stay in one part of the split")
    train.add_argument("--drop", nargs="+", default=[], metavar="COL", help="columns to leave out")
    train.add_argument("--time-budget", type=float, default=60.0, metavar="S", help="seconds for the search (default 60)")
    train.add_argument("--trials", type=int, help="stop after this many trials (default: only the time budget)")
    train.add_argument("--families", help="comma-separated model families (default: all)")
    train.add_argument("--metric", help="metric to optimise (default: roc_auc, or rmse for regression)")
    train.add_argument("--seed", type=int, default=0, help="seed of the split and the search (default 0)")
    train.add_argument("--compute", choices=("auto", "cpu", "gpu"), default="auto", help="where XGBoost trains")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="new or empty folder for the model")
    train.set_defaults(run=_run_train)

    predict = commands.add_parser("predict", help="predict with a model folder written by 'workbench train'")
    predict.add_argument("model", type=Path, metavar="DIR", help="the model folder")
    predict.add_argument("data", type=Path, help="the table to predict for")
    predict.add_argument("--out", type=Path, required=True, metavar="PRED.csv", help="where to write the predictions")
    predict.set_defaults(run=_run_predict)


def _read(path: Path) -> Any:
    from pipelines.errors import InputError
    from pipelines.ingest import read_table

    if not path.is_file():
        raise InputError("train.file_not_found", path=str(path))
    return read_table(path, filename=path.name)


def build_recipe(frame: Any, *, target: str, positive: str | None, group: str | None, drop: list[str],
                 identifiers: list[str]) -> Any:
    """The suggested recipe for ``frame`` with the command line's choices applied."""
    from pipelines.errors import InputError
    from pipelines.recipe import DefineOutcome, DropColumns, SplitSpec, suggest_recipe

    for name, column in [("target", target), ("group", group), *[("drop", c) for c in drop]]:
        if column is not None and column not in frame.columns:
            raise InputError("train.unknown_column", option=name, column=column,
                             available=", ".join(map(str, list(frame.columns)[:15])))
    recipe = suggest_recipe(frame, target=target, identifier_columns=[c for c in identifiers if c != group])
    steps = []
    for step in recipe.steps:
        if isinstance(step, DefineOutcome) and positive is not None:
            step = dataclasses.replace(step, positive_label=positive)
        if isinstance(step, DropColumns):
            kept = tuple(c for c in step.columns if c != group and c not in drop)
            if not kept:
                continue
            step = dataclasses.replace(step, columns=kept)
        steps.append(step)
    if drop:
        steps.insert(1, DropColumns(columns=tuple(drop), note="--drop"))
    recipe = recipe.with_steps(steps)
    if group is not None:
        recipe = dataclasses.replace(recipe, split=SplitSpec(kind="grouped_kfold", group_column=group,
                                                             n_folds=recipe.split.n_folds,
                                                             test_fraction=recipe.split.test_fraction))
    return recipe


def train_file(*, data: Path, target: str, out: Path, positive: str | None = None, group: str | None = None,
               drop: list[str] | None = None, time_budget: float | None = 60.0, trials: int | None = None,
               families: list[str] | None = None, metric: str | None = None, seed: int = 0, compute: str = "auto",
               report=print) -> dict[str, Any]:
    """Train on ``data`` and write the final model to ``out``; returns what ``run.json`` holds."""
    from pipelines.automl import ALL_FAMILIES, SearchSettings, run_search
    from pipelines.automl.persist import save_model
    from pipelines.errors import TrainingError
    from pipelines.recipe import build_preprocessor, make_split_plan, prepare
    from workbench.i18n import t
    from workbench.services._run_store import library_versions, plain

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingError("training.model_dir_not_empty", path=str(out))
    ingested = _read(data)
    frame = ingested.frame
    recipe = build_recipe(frame, target=target, positive=positive, group=group, drop=list(drop or []),
                          identifiers=[f.column for f in ingested.identifier_flags])
    settings = SearchSettings(families=tuple(families or ALL_FAMILIES), n_trials=trials, time_budget_s=time_budget,
                              seed=seed, metric=metric, device=compute)
    prepared = prepare(recipe, frame)
    plan = make_split_plan(recipe.split, prepared, seed=seed)
    groups = prepared.frame[prepared.group_column] if prepared.group_column else None
    report(f"{data.name}: {len(prepared.frame)} rows, {len(prepared.features)} predictors, task {prepared.task}, "
           f"outcome {prepared.target}" + (f" (event: {prepared.positive_label})" if prepared.task == "binary" else ""))
    result = run_search(X=prepared.X, y=prepared.y, plan=plan, task=prepared.task,
                        make_preprocessor=lambda: build_preprocessor(recipe, prepared), settings=settings,
                        groups=groups, positive_label=prepared.positive_label)
    for notice in result.notices:
        report(t(notice.key, "en", **notice.params))
    extra = {"recipe": recipe.to_dict(), "target": prepared.target, "positive_label": plain(prepared.positive_label),
             "features": list(prepared.features), "task": prepared.task}
    save_model(result.model, out, task=result.task, classes=[plain(c) for c in result.classes], extra=extra)
    leaderboard = [plain({"name": r.name, "family": r.family, "cv_mean": r.cv_mean, "cv_sd": r.cv_sd,
                          "test_score": r.test_score, "selected": r.selected, "params": r.params, "device": r.device,
                          "time_cut": r.time_cut})
                   for r in result.leaderboard]
    summary = plain({
        "data": data.name, "task": result.task, "metric": result.metric, "target": prepared.target,
        "positive_label": prepared.positive_label, "classes": list(result.classes), "n_train": len(result.train_index),
        "n_test": len(result.test_index), "seed": seed, "device": result.device, "settings": settings.to_dict(),
        "leaderboard": leaderboard, "final": {"kind": result.final.kind, "calibration": result.final.calibration,
                                              "oof_score": result.final.oof_score,
                                              "test_score": result.final.test_score},
        "trials": len(result.trials), "elapsed_s": round(result.elapsed_s, 2),
        "notices": [n.to_dict() for n in result.notices], "libraries": library_versions(),
    })
    (out / "run.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    report(f"{len(result.trials)} trials in {result.elapsed_s:.1f} s on {result.device}; metric {result.metric}")
    report(f"{'model':<10} {'cv mean':>8} {'cv sd':>7} {'test':>7}")
    for row in leaderboard:
        test = "-" if row["test_score"] is None else f"{row['test_score']:.4f}"
        mark = "  <- final" if row["selected"] else ""
        if row["time_cut"]:  # the first trial, shortened so that the run keeps its time budget
            mark += "  (shortened by the time budget: " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in row["time_cut"].items()) + ")"
        report(f"{row['name']:<10} {row['cv_mean']:>8.4f} {row['cv_sd']:>7.4f} {test:>7}{mark}")
    final_test = result.final.test_score
    report(f"final model: {result.final.kind}, calibration {result.final.calibration}, holdout "
           f"{result.metric} {'-' if final_test is None else f'{final_test:.4f}'}; saved to {out}")
    return summary


def _for_prediction(recipe: Any, frame: Any, *, target: str) -> Any:
    """The recipe's data-level steps without the outcome: every input row keeps its place."""
    from pipelines.errors import InputError
    from pipelines.recipe import DefineOutcome, DropColumns

    current = frame
    for number, step in enumerate(recipe.steps, start=1):
        if not step.enabled or step.level != "data" or isinstance(step, DefineOutcome):
            continue
        if isinstance(step, DropColumns):
            current = current.drop(columns=[c for c in step.columns if c in current.columns])
            continue
        result = step.apply(current)
        if len(result) != len(current):
            raise InputError("train.predict_step_changes_rows", step=number, kind=step.kind)
        current = result
    return current


def predict_file(*, model_dir: Path, data: Path, out: Path) -> Any:
    """One prediction per input row, in input order: ``probability`` (binary), ``p_<class>``
    (multiclass) or ``prediction`` (regression)."""
    import pandas as pd

    from pipelines.automl.persist import load_model
    from pipelines.errors import InputError
    from pipelines.recipe import Recipe

    loaded = load_model(model_dir)
    extra = loaded.manifest.get("extra", {})
    if "recipe" not in extra:
        raise InputError("train.predict_no_recipe", path=str(model_dir))
    frame = _read(data).frame
    prepared = _for_prediction(Recipe.from_dict(extra["recipe"]), frame, target=extra["target"])
    missing = [c for c in extra["features"] if c not in prepared.columns]
    if missing:
        raise InputError("train.predict_missing_columns", columns=missing[:20], count=len(missing))
    X = prepared[list(extra["features"])]
    if loaded.task == "regression":
        output = pd.DataFrame({"prediction": loaded.model.predict(X)})
    else:
        proba = loaded.model.predict_proba(X)
        if loaded.task == "binary":
            output = pd.DataFrame({"probability": proba[:, 1]})
        else:
            output = pd.DataFrame({f"p_{c}": proba[:, k] for k, c in enumerate(loaded.classes)})
    output.to_csv(out, index=False)
    return output


def _run_train(args: argparse.Namespace) -> int:
    families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
    train_file(data=args.data, target=args.target, out=args.out, positive=args.positive, group=args.group,
               drop=args.drop, time_budget=args.time_budget, trials=args.trials, families=families, metric=args.metric,
               seed=args.seed, compute=args.compute)
    return 0


def _run_predict(args: argparse.Namespace) -> int:
    output = predict_file(model_dir=args.model, data=args.data, out=args.out)
    print(f"{len(output)} predictions written to {args.out}", file=sys.stderr)
    return 0
