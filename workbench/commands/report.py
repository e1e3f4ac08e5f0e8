"""`workbench report`: the paper pack of a model trained with `workbench train --out DIR`, headless.

The model folder holds the model, its recipe (in the manifest) and ``run.json``, but no patient
rows; the table it was trained on is read again (``--data``, by default the file ``run.json``
names, looked up beside the folder and in the current directory). The recipe and seed rebuild the
same split, the model predicts its holdout, and the holdout score must equal the one training
recorded, so a different table is refused instead of reported. The pack is built by the same code
as the app's (without out-of-fold predictions, which a model folder does not keep).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "report_folder"]


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="build the paper pack of a model folder written by 'workbench train'")
    report.add_argument("model", type=Path, metavar="DIR", help="the model folder ('workbench train --out DIR')")
    report.add_argument("--out", type=Path, required=True, metavar="PACK.zip", help="where to write the paper pack")
    report.add_argument("--preset", choices=("single", "double"), default="single", help="journal column width (default single)")
    report.add_argument("--dpi", type=int, choices=(300, 600), default=600, help="raster resolution (default 600)")
    report.add_argument("--lang", choices=("en", "ko"), default="en", help="language of labels and texts (default en)")
    report.add_argument("--data", type=Path, help="the table the model was trained on (default: the file run.json names)")
    report.add_argument("--subgroups", nargs="+", default=[], metavar="COL", help="columns for subgroup performance")
    report.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    report.set_defaults(run=_run_report)


def _data_path(model_dir: Path, summary: dict[str, Any], data: Path | None) -> Path:
    from pipelines.errors import InputError

    if data is not None:
        if not data.is_file():
            raise InputError("export.report_data_not_found", path=str(data))
        return data
    name = str(summary.get("data") or "")
    for candidate in (model_dir.parent / name, Path.cwd() / name):
        if name and candidate.is_file():
            return candidate
    raise InputError("export.report_data_not_found", path=name or "?")


def report_folder(*, model_dir: Path, out: Path, preset: str = "single", dpi: int = 600, lang: str = "en",
                  data: Path | None = None, subgroups: list[str] | None = None, resamples: int = 1000,
                  report=print) -> Path:
    """Write the paper pack of ``model_dir`` to ``out``; returns ``out``."""
    import numpy as np
    import pandas as pd

    from pipelines.automl.persist import load_model
    from pipelines.errors import InputError
    from pipelines.ingest import read_table
    from pipelines.recipe import Recipe, make_split_plan, prepare
    from workbench.services._evaluate import EvalOptions, evaluate_model
    from workbench.services._model_names import model_name
    from workbench.services._paper import PackInput, build_pack
    from workbench.services.export import ExportChoice

    ExportChoice(preset=preset, dpi=dpi, lang=lang).check()
    run_file = model_dir / "run.json"
    if not model_dir.is_dir() or not run_file.is_file():
        raise InputError("export.report_not_a_model_folder", path=str(model_dir))
    summary = json.loads(run_file.read_text(encoding="utf-8"))
    loaded = load_model(model_dir)
    extra = loaded.manifest.get("extra", {})
    if "recipe" not in extra:
        raise InputError("export.report_not_a_model_folder", path=str(model_dir))
    source = _data_path(model_dir, summary, data)
    recipe = Recipe.from_dict(extra["recipe"])
    prepared = prepare(recipe, read_table(source, filename=source.name).frame)
    seed = int(summary.get("seed", 0))
    plan = make_split_plan(recipe.split, prepared, seed=seed)
    if len(plan.test_index) == 0:
        raise InputError("export.report_no_holdout", path=str(model_dir))
    task = loaded.task
    X_test = prepared.X.iloc[plan.test_index]
    y_test = prepared.y.iloc[plan.test_index]
    frame = pd.DataFrame({"model_id": 1, "row": np.asarray(plan.test_index, dtype=np.int64), "part": "test", "fold": -1})
    if task == "regression":
        frame["y_true"] = y_test.to_numpy(dtype=float)
        frame["prediction"] = np.asarray(loaded.model.predict(X_test), dtype=float)
    else:
        proba = np.asarray(loaded.model.predict_proba(X_test), dtype=float)
        if task == "binary":
            frame["y_true"] = (y_test.to_numpy() == prepared.positive_label).astype(int)
            frame["probability"] = proba[:, 1]
        else:
            frame["y_true"] = y_test.to_numpy()
            for k, label in enumerate(loaded.classes):
                frame[f"p_{label}"] = proba[:, k]
    _check_same_data(summary, frame, task)
    final = next((r for r in summary.get("leaderboard", []) if r.get("selected")), {})
    label = model_name(str(final.get("name") or (summary.get("final") or {}).get("kind") or "model"), lang)
    pack_summary = {
        **summary, "features": list(extra.get("features", prepared.features)), "group_column": prepared.group_column,
        "rows_in": prepared.rows_in, "recipe_sha256": recipe.content_hash(), "n_trials": summary.get("trials"),
        "cohort_flow": [{"step": f.step, "kind": f.kind, "rows_in": f.rows_in, "rows_out": f.rows_out, "reason": f.reason}
                        for f in prepared.cohort_flow],
        "leaderboard": [{**row, "model_id": None} for row in summary.get("leaderboard", [])],
    }
    options = EvalOptions(n_resamples=resamples, seed=seed, subgroup_columns=tuple(subgroups or ()))
    report(f"{source.name}: {len(prepared.frame)} rows; holdout {len(plan.test_index)}; evaluating {label} ...")
    evaluation = evaluate_model(model_id=1, label=label, predictions=frame, summary=pack_summary, options=options,
                                prepared_frame=prepared.frame, model=loaded.model)
    from pipelines.evaluation import in_input_units
    from workbench.services._evaluate import contributions_for

    contributions = contributions_for(loaded.model, X_test)  # feature values shown as the table holds them
    pack = PackInput(
        evaluations=(evaluation,), summary=pack_summary, settings=summary.get("settings", {}), recipe=recipe.to_dict(),
        params={1: final.get("params", {})}, title=f"{source.name}: {prepared.target}", source=str(model_dir),
        preset=preset, dpi=dpi, lang=lang, families=(str(final.get("family") or final.get("name") or "model"),),
        contributions=in_input_units(contributions, X_test) if contributions is not None else None,
    )
    data_bytes = build_pack(pack, on_file=lambda name: report(f"  figure {name}"))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data_bytes)
    tmp.replace(out)
    report(f"paper pack written to {out} ({len(data_bytes) / 1e6:.1f} MB)")
    return out


def _check_same_data(summary: dict[str, Any], frame: Any, task: str) -> None:
    """The holdout score must be the one training recorded: else this is not the same table."""
    from pipelines.errors import InputError

    recorded = (summary.get("final") or {}).get("test_score")
    if recorded is None or task != "binary" or summary.get("metric") != "roc_auc":
        return
    from sklearn.metrics import roc_auc_score

    now = float(roc_auc_score(frame["y_true"], frame["probability"]))
    if abs(now - float(recorded)) > 1e-6:
        raise InputError("export.report_data_mismatch", recorded=round(float(recorded), 4), now=round(now, 4))


def _run_report(args: argparse.Namespace) -> int:
    report_folder(model_dir=args.model, out=args.out, preset=args.preset, dpi=args.dpi, lang=args.lang, data=args.data,
                  subgroups=args.subgroups, resamples=args.resamples, report=lambda line: print(line, file=sys.stderr))
    return 0
