"""The forest family's default configuration: the old defaults against candidates, by grouped
5-fold CV AUROC and CPU seconds per fit, on small and large clinical tables, in one process.

    python benchmarks/forest_defaults.py [--tasks T ...] [--configs C ...] [--large-trees 20]

Tasks: the binary tasks of ``benchmarks/automl.py`` (heart failure, Cleveland, Pima, breast
cancer: 299-768 rows), the PhysioNet 2012 admission table (8,000 rows, as mined for the shipped
recommendations), samples of 2,000 and 6,000 patients of the readmission table (the second as mined
for the recommendations: 8,499 encounters) and the whole
readmission table (101,766 encounters, 71,518 patients). Folds are stratified, grouped by
``patient_nbr`` for readmission; the preprocessing is the suggested recipe's
(``benchmarks/automl.py``'s ``preprocessor``), fitted inside each fold and shared by every
configuration. Every fit is one process, one core (``n_jobs=1``); CPU seconds are the process's
(``time.process_time``: less sensitive than wall time to a loaded machine, not insensitive).

Configurations (kind, max_features, min_samples_leaf; the trees and class weights are the
family's defaults for the table's size):

* ``old``: the defaults until 2026-11 (extra trees, 0.5, 3), the baseline of every ratio;
* ``shipped``: what ``pipelines.automl.models.forest.default_params`` gives for the table now;
* fixed candidates: ``mf0.1_leaf30`` (a previous measurement's proposal), ``sqrt_leaf30``
  (``max_features="sqrt"``), ``mf0.1_leaf3``, ``sqrt_leaf3``, ``mf0.5_leaf30``, ``mf0.1_leaf100``.

On tables over 20,000 training rows every configuration grows ``--large-trees`` trees instead of
the default count (200 trees of the old defaults cost minutes per fold there); the table says so.
It also checks that the Optuna search space holds the old and the shipped defaults at every size.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl as bench

from pipelines.automl.models import BuildContext, Space, forest
from pipelines.automl.wrappers import ToMatrix

OLD = {"kind": "extra", "max_features": 0.5, "min_samples_leaf": 3}

CANDIDATES: dict[str, dict[str, Any]] = {
    "mf0.1_leaf30": {"kind": "extra", "max_features": 0.1, "min_samples_leaf": 30},
    "sqrt_leaf30": {"kind": "extra", "max_features": "sqrt", "min_samples_leaf": 30},
    "mf0.1_leaf3": {"kind": "extra", "max_features": 0.1, "min_samples_leaf": 3},
    "sqrt_leaf3": {"kind": "extra", "max_features": "sqrt", "min_samples_leaf": 3},
    "mf0.5_leaf30": {"kind": "extra", "max_features": 0.5, "min_samples_leaf": 30},
    "mf0.1_leaf100": {"kind": "extra", "max_features": 0.1, "min_samples_leaf": 100},
}
CONFIGS = ("old", "shipped", *CANDIDATES)
LARGE = 20_000


def _physionet() -> bench.Task:
    from mine_recommendations import physionet

    return physionet()  # the table as the recommendations were mined on it


def _readmission_sample(patients: int) -> Callable[[], bench.Task]:
    def load() -> bench.Task:  # every encounter of a random sample of patients (6,000: the mined sample)
        t = bench.readmission()
        kept = t.groups.drop_duplicates().sample(n=patients, random_state=0)
        keep = np.flatnonzero(t.groups.isin(kept).to_numpy())
        X, y, groups = (s.iloc[keep].reset_index(drop=True) for s in (t.X, t.y, t.groups))
        return bench.Task(f"readmission_{patients // 1000}k", "readmission", X, y, groups)

    return load


TASKS: dict[str, Callable[[], bench.Task]] = {
    **{k: v for k, v in bench.TASKS.items() if k != "readmission"},
    "physionet2012": _physionet,
    "readmission_2k": _readmission_sample(2_000),
    "readmission_6k": _readmission_sample(6_000),
    "readmission": bench.readmission,
}


def folds(task: bench.Task, k: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    idx = np.arange(len(task.y))
    if task.groups is None:
        return list(StratifiedKFold(k, shuffle=True, random_state=0).split(idx, task.y))
    return list(StratifiedGroupKFold(k, shuffle=True, random_state=0).split(idx, task.y, groups=task.groups))


def prepared(task: bench.Task) -> list[SimpleNamespace]:
    out = []
    for tr, va in folds(task):
        prep = bench.preprocessor()
        to_matrix = ToMatrix()
        out.append(SimpleNamespace(X_train=to_matrix.transform(prep.fit_transform(task.X.iloc[tr], task.y.iloc[tr])),
                                   y_train=task.y.iloc[tr].to_numpy(), X_val=to_matrix.transform(prep.transform(task.X.iloc[va])),
                                   y_val=task.y.iloc[va].to_numpy()))
    return out


def context(n_rows: int, n_features: int, counts: tuple[int, ...] = ()) -> BuildContext:
    return BuildContext(task="binary", n_classes=2, seed=0, class_counts=counts, n_rows=n_rows, n_features=n_features)


def params_of(config: str, ctx: BuildContext, large_trees: int) -> dict[str, Any]:
    shipped = forest.default_params(ctx)
    params = shipped if config == "shipped" else {**shipped, **(OLD if config == "old" else CANDIDATES[config])}
    if ctx.n_rows > LARGE:
        params = {**params, "n_estimators": large_trees}
    return params


def evaluate(fold_data: list[SimpleNamespace], params: dict[str, Any], ctx: BuildContext) -> tuple[list[float], list[float]]:
    aucs, cpu = [], []
    for fd in fold_data:
        model = forest.build(dict(params), ctx)
        started = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(fd.X_train, fd.y_train)
        cpu.append(time.process_time() - started)
        aucs.append(roc_auc_score(fd.y_val, model.predict_proba(fd.X_val)[:, 1]))
    return aucs, cpu


def space_holds(params: dict[str, Any], ctx: BuildContext) -> list[str]:
    """The parameters of ``params`` outside the forest's Optuna search space for ``ctx``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial = optuna.create_study().ask()
    forest.search_space(Space(trial, family="forest"), ctx)
    outside = []
    for name, value in params.items():
        dist = trial.distributions.get(name)
        if dist is None:
            continue
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            ok = value in dist.choices
        else:
            ok = not isinstance(value, str) and dist.low <= value <= dist.high
        if not ok:
            outside.append(f"{name}={value}")
    return outside


def check_space() -> bool:
    print("search space holds the defaults (old and shipped) at every size:")
    fine = True
    for n_rows, n_features in ((239, 11), (614, 8), (6_400, 7), (6_800, 250), (81_000, 250), (500_000, 2_000)):
        ctx = context(n_rows, n_features)
        for name in ("old", "shipped"):
            params = {**forest.default_params(ctx), **(OLD if name == "old" else {})}
            outside = space_holds(params, ctx)
            fine &= not outside
            shown = {k: params[k] for k in ("kind", "max_features", "min_samples_leaf", "n_estimators")}
            print(f"  n={n_rows:7d} p={n_features:5d} {name:8s} {shown}  {'inside' if not outside else 'OUTSIDE: ' + ', '.join(outside)}")
    return fine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--large-trees", type=int, default=20)
    args = parser.parse_args(argv)
    configs = ["old", *[c for c in args.configs if c != "old"]]
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    fine = check_space()
    for task_name in args.tasks:
        task = TASKS[task_name]()
        started = time.perf_counter()
        fold_data = prepared(task)
        n_train = len(fold_data[0].y_train)
        y = fold_data[0].y_train
        ctx = context(n_train, fold_data[0].X_train.shape[1], (int(np.sum(y == 0)), int(np.sum(y == 1))))
        print(f"\n{task_name}: {len(task.y)} rows, {ctx.n_features} predictors after the recipe, "
              f"{n_train} training rows a fold (preprocessing {time.perf_counter() - started:.1f} s wall, "
              f"load {os.getloadavg()[0]:.1f})")
        print(f"  {'config':13s} {'kind':5s} {'max_f':>5s} {'leaf':>4s} {'trees':>5s}  {'AUROC':>6s} {'fold SD':>7s}"
              f"  {'d vs old':>8s} {'SD of d':>7s}  {'CPU s/fit':>9s} {'ratio':>6s}")
        base_auc, base_cpu = None, None
        for config in configs:
            params = params_of(config, ctx, args.large_trees)
            aucs, cpu = evaluate(fold_data, params, ctx)
            if base_auc is None:
                base_auc, base_cpu = np.array(aucs), float(np.mean(cpu))
            diff = np.array(aucs) - base_auc
            mf = params["max_features"]
            print(f"  {config:13s} {params['kind']:5s} {mf if isinstance(mf, str) else f'{mf:.2f}':>5s} "
                  f"{params['min_samples_leaf']:4d} {params['n_estimators']:5d}  {np.mean(aucs):.4f} {np.std(aucs, ddof=1):7.4f}"
                  f"  {np.mean(diff):+8.4f} {np.std(diff, ddof=1):7.4f}  {np.mean(cpu):9.2f} {np.mean(cpu) / base_cpu:6.2f}"
                  f"  (load {os.getloadavg()[0]:.1f})", flush=True)
        if n_train > LARGE:
            per_tree = base_cpu / args.large_trees
            trees = forest.default_params(ctx)["n_estimators"]
            print(f"  ({args.large_trees} trees each on this table; the old defaults' {trees} trees would take "
                  f"about {per_tree * trees:.0f} CPU s a fit, {math.ceil(per_tree * trees * 5 / 60)} min for the five folds)")
    print("\nsearch space check:", "every default inside" if fine else "A DEFAULT IS OUTSIDE THE SPACE")
    return 0 if fine else 1


if __name__ == "__main__":
    raise SystemExit(main())
