"""Rebuild ``pipelines/data/recommendations.json``: meta-features and best configurations of the
AutoML search on public clinical datasets, so a fresh install already has neighbours to learn from.

    python benchmarks/mine_recommendations.py [--trials 20] [--out pipelines/data/recommendations.json]

Each dataset gets a fixed-trial search (reproducible) on all its rows with 5-fold CV (3-fold,
patient-grouped, on a 6,000-patient sample of the readmission table; half the trials for tables
over 5,000 rows); the best trial of each
family is kept, best first. Only meta-features and hyperparameters are written, never data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl as bench

from pipelines.automl import SearchSettings, meta_features, run_search
from pipelines.automl.device import resolve_device
from pipelines.automl.recommend import SHIPPED_TABLE


def physionet() -> bench.Task:
    df = bench._read("physionet2012_static_outcomes.csv")
    y = df.pop("In-hospital_death").astype(int)
    df = df.drop(columns=["RecordID", "set", "Survival", "Length_of_stay"])  # ids and post-outcome columns
    return bench.Task("physionet2012", "physionet2012", df, y)


def cleveland_multiclass() -> tuple[pd.DataFrame, pd.Series]:
    df = bench._read("heart_cleveland.csv")
    y = df.pop("num").clip(upper=3)  # 3 and 4 are rare: pooled
    return df, y


def _mine(name: str, X: pd.DataFrame, y: pd.Series, task: str, trials: int, groups: pd.Series | None = None) -> dict:
    idx = np.arange(len(y))
    if groups is None:
        folds = tuple(StratifiedKFold(5, shuffle=True, random_state=0).split(idx, y))
    else:
        folds = tuple(StratifiedGroupKFold(3, shuffle=True, random_state=0).split(idx, y, groups=groups))
    plan = SimpleNamespace(train_index=idx, test_index=np.array([], dtype=int), folds=folds)
    start = time.perf_counter()
    result = run_search(X=X, y=y, plan=plan, task=task, make_preprocessor=bench.preprocessor,
                        settings=SearchSettings(n_trials=trials, time_budget_s=None, seed=0, device="cpu",
                                                calibration=False, ensemble=False),
                        device_choice=resolve_device("cpu"))
    rows = sorted(result.leaderboard, key=lambda r: -r.cv_mean if result.greater_is_better else r.cv_mean)
    print(f"{name:16s} {task:10s} n={len(y):6d} best {rows[0].family:9s} {result.metric} {rows[0].cv_mean:.4f}"
          f"  ({len(result.trials)} trials, {time.perf_counter() - start:.0f} s)", flush=True)
    return {
        "name": name,
        "meta": meta_features(X, y, task).to_dict(),
        "metric": result.metric,
        "best": [{"family": r.family, "params": r.params, "cv_score": round(r.cv_mean, 4)} for r in rows],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--out", type=Path, default=SHIPPED_TABLE)
    parser.add_argument("--readmission-patients", type=int, default=6_000)
    args = parser.parse_args(argv)

    runs: list[dict] = []

    def write() -> None:  # after every table, so an interrupted rebuild keeps what it mined
        table = {"version": 1, "generated_by": "benchmarks/mine_recommendations.py",
                 "trials_per_dataset": args.trials, "runs": runs}
        args.out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    for loader in (bench.heart_failure, bench.cleveland, bench.pima, bench.breast_cancer, physionet):
        t = loader()
        trials = args.trials if len(t.y) <= 5_000 else max(8, args.trials // 2)
        runs.append(_mine(t.dataset, t.X, t.y, "binary", trials))
        write()
    X, y = cleveland_multiclass()
    runs.append(_mine("cleveland_multiclass", X, y, "multiclass", args.trials))
    write()
    t = bench.readmission()
    patients = t.groups.drop_duplicates().sample(n=args.readmission_patients, random_state=0)
    keep = np.flatnonzero(t.groups.isin(patients).to_numpy())
    runs.append(_mine(t.dataset, t.X.iloc[keep].reset_index(drop=True), t.y.iloc[keep].reset_index(drop=True),
                      "binary", max(8, args.trials // 4), t.groups.iloc[keep].reset_index(drop=True)))
    write()
    print(f"wrote {args.out} ({len(runs)} tables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
