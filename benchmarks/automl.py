"""Holdout AUROC of the workbench's AutoML against AutoGluon, FLAML and two baselines.

Five shared binary clinical tasks, three seeds of a 75/25 stratified split (grouped by
``patient_nbr`` for readmission), every method at the same wall-clock budget in the same run:

    python benchmarks/automl.py --budget 30 --seeds 0 1 2 [--tasks T ...] [--methods M ...]
                                [--autogluon-python PY] [--json OUT]

AutoGluon-Tabular pins pandas < 2.4, which cannot live beside this project's pandas 3, so it runs
in its own virtual environment (``--autogluon-python /path/to/venv/bin/python``, with
``autogluon.tabular`` installed there); without it the table says "not run". FLAML runs in this
environment when importable. The workbench never sees configurations mined on the task being
scored: its recommendations come from the shipped table minus that dataset (leave-one-out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GroupShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATASETS = Path(os.environ.get("WORKBENCH_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str  # name used in the shipped recommendations table
    X: pd.DataFrame
    y: pd.Series  # 0/1, 1 = the outcome
    groups: pd.Series | None = None


def _read(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(DATASETS / name, **kwargs)


def heart_failure() -> Task:
    df = _read("heart_failure_clinical_records.csv").drop(columns=["time"])  # time leaks the outcome
    y = df.pop("DEATH_EVENT").astype(int)
    return Task("heart_failure", "heart_failure", df, y)


def cleveland() -> Task:
    df = _read("heart_cleveland.csv")
    y = (df.pop("num") > 0).astype(int)
    return Task("cleveland", "cleveland", df, y)


def pima() -> Task:
    df = _read("pima_diabetes.csv")
    y = df.pop("Outcome").astype(int)
    for col in ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"):  # 0 means not measured
        df[col] = df[col].mask(df[col] == 0)
    return Task("pima", "pima", df, y)


def breast_cancer() -> Task:
    df = _read("breast_cancer_wisconsin_diagnostic.csv")
    y = (df.pop("target") == 0).astype(int)  # 0 = malignant: the outcome of interest
    return Task("breast_cancer", "breast_cancer", df, y)


def readmission() -> Task:
    df = _read("diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""], low_memory=False)
    y = (df.pop("readmitted") == "<30").astype(int)
    groups = df.pop("patient_nbr")
    df = df.drop(columns=["encounter_id"])
    for col in ("admission_type_id", "discharge_disposition_id", "admission_source_id"):
        df[col] = df[col].astype(str)  # codes, not quantities
    return Task("readmission", "readmission", df, y, groups)


TASKS: dict[str, Callable[[], Task]] = {
    "heart_failure": heart_failure,
    "cleveland": cleveland,
    "pima": pima,
    "breast_cancer": breast_cancer,
    "readmission": readmission,
}


def preprocessor() -> ColumnTransformer:
    """What the suggested recipe compiles to: numbers as they are (NaN kept for the trees; the
    linear family imputes itself), categories one-hot with rare levels pooled."""
    return ColumnTransformer(
        [
            ("num", "passthrough", make_column_selector(dtype_include="number")),
            ("cat", RarePooledOneHot(min_count=20, max_levels=30), make_column_selector(dtype_exclude="number")),
        ],
        verbose_feature_names_out=False,
    )


class RarePooledOneHot(TransformerMixin, BaseEstimator):
    """One-hot columns for the levels seen at least ``min_count`` times (at most ``max_levels``
    columns, the last one pooling every rarer, missing-as-a-level or unseen value).

    The same encoding as ``OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20,
    max_categories=30)``, computed with pandas: scikit-learn counts object values in a Python loop
    (8 s per fold on the readmission table's 39 text columns, more than a whole search may take).
    """

    def __init__(self, min_count: int = 20, max_levels: int = 30) -> None:
        self.min_count = min_count
        self.max_levels = max_levels

    def fit(self, X: pd.DataFrame, y: object = None) -> RarePooledOneHot:
        self.levels_, self.pooled_ = [], []
        for col in X.columns:
            counts = _as_levels(X[col]).value_counts(sort=False)
            counts = counts.iloc[np.lexsort((counts.index.to_numpy(dtype=str), -counts.to_numpy()))]
            frequent = counts[counts >= self.min_count]
            pooled = len(frequent) < len(counts)
            if len(frequent) + pooled > self.max_levels:
                frequent, pooled = frequent.iloc[: self.max_levels - 1], True
            self.levels_.append(list(frequent.index))
            self.pooled_.append(pooled)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        blocks = []
        for col, levels, pooled in zip(X.columns, self.levels_, self.pooled_):
            codes = pd.Index(levels, dtype=object).get_indexer(_as_levels(X[col]).astype(object))
            width = len(levels) + 1  # the last column takes the pooled (and, when nothing was pooled, unseen) values
            block = np.zeros((len(codes), width))
            block[np.arange(len(codes)), np.where(codes < 0, width - 1, codes)] = 1.0
            blocks.append(block if pooled else block[:, :-1])
        return np.hstack(blocks) if blocks else np.empty((len(X), 0))


def _as_levels(col: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        return col.fillna("(missing)")
    return col.astype(object).where(col.notna(), "(missing)").astype(str)


def split(task: Task, seed: int) -> SimpleNamespace:
    """75/25 holdout (grouped when the task has patients) and folds on the training part."""
    idx = np.arange(len(task.y))
    if task.groups is None:
        train, test = train_test_split(idx, test_size=0.25, stratify=task.y, random_state=seed)
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        folds = tuple(cv.split(train, task.y.iloc[train]))
    else:
        train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=seed).split(idx, groups=task.groups))
        cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=seed)
        folds = tuple(cv.split(train, task.y.iloc[train], groups=task.groups.iloc[train]))
    return SimpleNamespace(train_index=np.sort(train), test_index=np.sort(test), folds=folds)


def _sub(task: Task, plan: SimpleNamespace):
    tr, te = plan.train_index, plan.test_index
    return task.X.iloc[tr], task.y.iloc[tr], task.X.iloc[te], task.y.iloc[te]


def run_workbench(task: Task, plan: SimpleNamespace, seed: int, budget: float) -> float:
    from pipelines.automl import SearchSettings, meta_features, run_search
    from pipelines.automl.device import resolve_device
    from pipelines.automl.recommend import recommend

    X_train, y_train, _, y_test = _sub(task, plan)
    meta = meta_features(X_train, y_train, "binary")
    rec = recommend(meta, exclude={task.dataset})
    settings = SearchSettings(time_budget_s=budget, seed=seed, device="cpu", enqueue=rec.enqueue)
    result = run_search(X=task.X, y=task.y, plan=plan, task="binary", make_preprocessor=preprocessor,
                        settings=settings, groups=task.groups, positive_label=1,
                        device_choice=resolve_device("cpu"))
    return roc_auc_score(y_test, result.test_predictions[:, 1])


def run_logistic(task: Task, plan: SimpleNamespace, seed: int, budget: float) -> float:
    X_train, y_train, X_test, y_test = _sub(task, plan)
    ct = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_exclude="number")),
    ])
    # sparse one-hot (thousands of ICD-9 codes in readmission), so scaling keeps zeros at zero
    model = make_pipeline(ct, StandardScaler(with_mean=False), LogisticRegression(max_iter=2000))
    model.fit(X_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def run_xgboost_default(task: Task, plan: SimpleNamespace, seed: int, budget: float) -> float:
    import xgboost

    X_train, y_train, X_test, y_test = _sub(task, plan)
    ct = ColumnTransformer([
        ("num", "passthrough", make_column_selector(dtype_include="number")),
        ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    ])
    model = make_pipeline(ct, xgboost.XGBClassifier(random_state=seed))
    model.fit(X_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def run_flaml(task: Task, plan: SimpleNamespace, seed: int, budget: float) -> float:
    from flaml import AutoML

    X_train, y_train, X_test, y_test = _sub(task, plan)
    automl = AutoML()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X_train, y_train, task="classification", time_budget=budget, metric="roc_auc", seed=seed, verbose=0)
        proba = automl.predict_proba(X_test)[:, 1]
    return roc_auc_score(y_test, proba)


_AUTOGLUON_SCRIPT = r"""
import sys, time, pandas as pd
from autogluon.tabular import TabularPredictor
train = pd.read_parquet(sys.argv[1]); test = pd.read_parquet(sys.argv[2])
start = time.perf_counter()
predictor = TabularPredictor(label="__y__", eval_metric="roc_auc", path=sys.argv[4], verbosity=0).fit(
    train, presets="medium_quality", time_limit=float(sys.argv[3]))
proba = predictor.predict_proba(test.drop(columns=["__y__"]))[1]
pd.DataFrame({"p": proba.to_numpy()}).to_csv(sys.argv[5], index=False)
print(time.perf_counter() - start)
"""


def run_autogluon(task: Task, plan: SimpleNamespace, seed: int, budget: float, python: str) -> float:
    X_train, y_train, X_test, y_test = _sub(task, plan)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # AutoGluon sees the same rows; column names made plain because parquet round-trips them anyway.
        X_train.assign(__y__=y_train.to_numpy()).to_parquet(tmp_path / "train.parquet")
        X_test.assign(__y__=y_test.to_numpy()).to_parquet(tmp_path / "test.parquet")
        out = tmp_path / "pred.csv"
        proc = subprocess.run(
            [python, "-c", _AUTOGLUON_SCRIPT, str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"),
             str(budget), str(tmp_path / "ag"), str(out)],
            check=False, capture_output=True, text=True, timeout=budget * 10 + 300,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        proba = pd.read_csv(out)["p"].to_numpy()
    return roc_auc_score(y_test, proba)


_METHODS = ("workbench", "autogluon", "flaml", "logistic", "xgb_default")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--autogluon-python", default=os.environ.get("AUTOGLUON_PYTHON"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--methods", nargs="+", default=None, choices=_METHODS,
                        help="only these methods (default: every one that can run here)")
    args = parser.parse_args(argv)

    methods: dict[str, Callable] = {"workbench": run_workbench}
    skipped: dict[str, str] = {}
    if args.autogluon_python:
        methods["autogluon"] = lambda t, p, s, b: run_autogluon(t, p, s, b, args.autogluon_python)
    else:
        skipped["autogluon"] = "not run: pass --autogluon-python (AutoGluon needs pandas<2.4, its own venv)"
    try:
        import flaml  # noqa: F401

        methods["flaml"] = run_flaml
    except ImportError:
        skipped["flaml"] = "not run: flaml not installed (pip install flaml)"
    methods["logistic"] = run_logistic
    methods["xgb_default"] = run_xgboost_default
    if args.methods:
        methods = {m: fn for m, fn in methods.items() if m in args.methods}
        skipped = {m: why for m, why in skipped.items() if m in args.methods}

    print(f"budget {args.budget:.0f} s, seeds {args.seeds}, {os.cpu_count()} cores")
    if "workbench" in methods:  # imported once, as in a running server (9 s at load 7): not the first fit's wall time
        import pipelines.automl.recommend  # noqa: F401
    for name, why in skipped.items():
        print(f"{name}: {why}")
    scores: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, dict[str, list[float]]] = {}
    for task_name in args.tasks:
        task = TASKS[task_name]()
        for seed in args.seeds:
            plan = split(task, seed)
            for method, fn in methods.items():
                start = time.perf_counter()
                try:
                    auc = float(fn(task, plan, seed, args.budget))
                except Exception as exc:  # noqa: BLE001 - a competitor failing must not hide the others' numbers
                    print(f"  {task_name} seed {seed} {method}: FAILED {type(exc).__name__}: {str(exc)[:300]}")
                    auc = float("nan")
                took = time.perf_counter() - start
                scores.setdefault(task_name, {}).setdefault(method, []).append(auc)
                seconds.setdefault(task_name, {}).setdefault(method, []).append(took)
                print(f"  {task_name:14s} seed {seed} {method:12s} AUROC {auc:.4f}  ({took:.1f} s)", flush=True)

    names = list(methods)
    print()
    print("holdout AUROC, mean over seeds (wall seconds per fit in brackets)")
    print(f"{'task':14s} " + " ".join(f"{m:>18s}" for m in names))
    for task_name in args.tasks:
        cells = [f"{np.nanmean(scores[task_name][m]):.4f} ({np.mean(seconds[task_name][m]):5.1f}s)" for m in names]
        print(f"{task_name:14s} " + " ".join(f"{c:>18s}" for c in cells))
    means = {m: float(np.nanmean([np.nanmean(scores[t][m]) for t in args.tasks])) for m in names}
    print(f"{'mean':14s} " + " ".join(f"{means[m]:>18.4f}" for m in names))
    best_per_task = np.mean([max(np.nanmean(scores[t][m]) for m in names) for t in args.tasks])
    print(f"best method per task, averaged: {best_per_task:.4f}")
    for task_name in args.tasks if {"workbench", "logistic", "xgb_default"} <= set(names) else ():
        wb = np.nanmean(scores[task_name]["workbench"])
        base = max(np.nanmean(scores[task_name]["logistic"]), np.nanmean(scores[task_name]["xgb_default"]))
        flag = "OK" if wb >= base - 0.01 else "MORE THAN 0.01 BELOW THE BETTER BASELINE"
        print(f"  {task_name:14s} workbench - better baseline = {wb - base:+.4f}  {flag}")
    print(f"wall seconds per run (goal for the workbench: at most the budget + 10 % = {args.budget * 1.1:.0f} s)")
    for task_name in args.tasks:
        cells = " ".join(f"{m} {min(seconds[task_name][m]):.1f}-{max(seconds[task_name][m]):.1f}" for m in names)
        over = "workbench" in names and max(seconds[task_name]["workbench"]) > args.budget * 1.1
        print(f"  {task_name:14s} {cells}  {'WORKBENCH OVER' if over else 'OK'}")
    if "autogluon" in means and "workbench" in means:
        print(f"workbench mean - AutoGluon mean = {means['workbench'] - means['autogluon']:+.4f}")
    if args.json:
        args.json.write_text(json.dumps({"budget": args.budget, "seeds": args.seeds, "scores": scores,
                                         "seconds": seconds, "skipped": skipped}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
