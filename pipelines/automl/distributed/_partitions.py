"""The approved dataset version as a Dask DataFrame in partitions, ready for the distributed learners.

Why it is shaped this way:

* The stored Parquet is read piece by piece (its row groups, or a one-time re-chunked copy when a
  file holds one huge row group), so no process ever holds the whole table.
* The recipe's data-level steps run on each partition. Only steps that look at one row at a time
  can do that (:data:`ROW_LOCAL_KINDS`); a recipe with a hand-edited cell or a time-series
  aggregation is trained on the single-process path instead (the caller checks
  :func:`is_row_local`).
* The split is computed by the same :func:`pipelines.splits.make_split_plan` as every other run,
  from the outcome, patient and time columns alone (a few bytes per row), so the parts, and the
  patients in each, are exactly the ones a single-process run would use.
* The model-level preprocessing is fitted on the training rows only (one worker gathers their raw
  predictor columns) and then applied to each partition where it lies; the learners see a float
  matrix with positional names, so LightGBM never meets a hospital's column names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipelines.recipe import (
    FlowStep,
    Prepared,
    Recipe,
    SplitPlan,
    at_step,
    build_preprocessor,
    decide_task,
    make_split_plan,
    schema_of,
)

__all__ = [
    "LABEL",
    "ROLE",
    "ROW",
    "ROW_LOCAL_KINDS",
    "Partitioned",
    "fit_preprocessor",
    "is_row_local",
    "matrices",
    "parquet_pieces",
    "read_prepared",
]

ROW, ROLE, LABEL = "__row__", "__role__", "__y__"
#: ``ROLE`` values: the held-out test part, and the training part's rows by cross-validation fold.
TEST = -1
#: Data-level steps whose output row depends on that row alone (and that keep the row order).
ROW_LOCAL_KINDS = frozenset({"outcome", "filter_rows", "drop_columns", "derive_column", "recode", "merge_categories",
                             "order_categories", "convert_units", "plausible_range", "rename_column"})


@dataclass(frozen=True)
class Partitioned:
    """The analysis table on the workers plus what the driver needs to know about it (no rows
    beyond the outcome, patient and time columns)."""

    frame: Any  # dask DataFrame: analysis table + ROW + ROLE + LABEL, persisted on the workers
    prepared: Prepared  # metadata; ``frame`` holds only the reserved columns (outcome, group, time)
    plan: SplitPlan
    role: np.ndarray  # per prepared row: TEST, or the CV fold whose validation part holds it
    classes: tuple[Any, ...]
    y: np.ndarray  # encoded outcome per prepared row (0..k-1, or the value for regression)
    n_partitions: int


def is_row_local(recipe: Recipe) -> bool:
    return all(step.kind in ROW_LOCAL_KINDS for step in recipe.steps if step.enabled and step.level == "data")


def parquet_pieces(source: Path, scratch: Path, *, rows_per_partition: int) -> list[tuple[str, int]]:
    """``(file, row group)`` pieces of at most about ``rows_per_partition`` rows.

    A file whose row groups are bigger (pyarrow writes up to a million rows per group) is streamed
    once, in record batches, into a folder of small files under ``scratch``; the stored artifact is
    never touched and the copy is reused by later runs on the same version.
    """
    meta = pq.ParquetFile(source).metadata
    if meta.num_row_groups and max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) \
            <= rows_per_partition * 1.5:
        return [(str(source), i) for i in range(meta.num_row_groups)]
    folder = scratch / f"{source.stem}-{rows_per_partition}"
    done = folder / "_complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        handle = pq.ParquetFile(source)
        for i, batch in enumerate(handle.iter_batches(batch_size=rows_per_partition)):
            part = folder / f"part-{i:05d}.parquet"
            pq.write_table(_table_of(batch), part.with_suffix(".tmp"), compression="zstd")
            part.with_suffix(".tmp").replace(part)
        done.write_text("ok", encoding="utf-8")
    return [(str(p), 0) for p in sorted(folder.glob("part-*.parquet"))]


def _table_of(batch: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([batch])


def _read_piece(piece: tuple[str, int]) -> pd.DataFrame:
    path, group = piece
    return pq.ParquetFile(path).read_row_group(group).to_pandas()


def _data_steps(recipe: Recipe, piece: tuple[str, int], dtypes: dict[str, Any] | None
                ) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """The data-level steps on one piece; returns the rows and the row count after each step."""
    current = _read_piece(piece)
    counts = [len(current)]
    for number, step in enumerate(recipe.steps, start=1):
        if not step.enabled or step.level != "data":
            continue
        with at_step(number):
            current = step.apply(current)
        counts.append(len(current))
    if dtypes is not None:  # one piece may infer another dtype (a mapped outcome, an empty column)
        for column, dtype in dtypes.items():
            if current[column].dtype != dtype:
                current[column] = current[column].astype(dtype)
    return current.reset_index(drop=True), tuple(counts)


def _columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns]


def _annotate(frame: pd.DataFrame, offset: int, role: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    out[ROW] = np.arange(offset, offset + len(frame), dtype=np.int64)
    out[ROLE] = role
    out[LABEL] = y
    return out


def read_prepared(client: Any, *, recipe: Recipe, source: Path, scratch: Path, rows_per_partition: int,
                  seed: int, n_folds: int | None = None, encode: Any) -> Partitioned:
    """Read, prepare and split the table on the cluster; ``encode(y, task, positive)`` returns
    ``(classes, encoded)`` exactly as the single-process search encodes its target."""
    import dask
    import dask.dataframe as dd

    pieces = parquet_pieces(source, scratch, rows_per_partition=rows_per_partition)
    first = _read_piece(pieces[0])
    recipe.validate(schema_of(first))
    sample, _ = _data_steps(recipe, pieces[0], None)
    dtypes = dict(sample.dtypes)
    # persisted once: the row counts come back to the driver, the rows stay on the workers
    steps = client.persist([dask.delayed(_data_steps, pure=True)(recipe, piece, dtypes) for piece in pieces])
    counts = client.compute([s[1] for s in steps], sync=True)
    frames = [s[0] for s in steps]
    lengths = [c[-1] for c in counts]

    split = recipe.split if n_folds is None or n_folds == recipe.split.n_folds \
        else dataclasses.replace(recipe.split, n_folds=n_folds)
    outcome = recipe.outcome
    target = outcome.target
    reserved_columns = [c for c in dict.fromkeys([target, split.group_column, split.time_column]) if c]
    reserved = client.compute([dask.delayed(_columns)(f, reserved_columns) for f in frames], sync=True)
    reserved = pd.concat(reserved, ignore_index=True) if reserved else sample[reserved_columns]
    prepared = _prepared_meta(recipe, sample, reserved, counts, split)
    plan = make_split_plan(split, prepared, seed=seed)
    role = np.full(len(reserved), TEST, dtype=np.int8)
    for k, (_, va) in enumerate(plan.folds):
        role[plan.train_index[va]] = k
    classes, y = encode(reserved[target], prepared.task, prepared.positive_label)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    annotated = [dask.delayed(_annotate, pure=True)(f, int(offsets[i]), role[offsets[i]:offsets[i + 1]],
                                                   y[offsets[i]:offsets[i + 1]])
                 for i, f in enumerate(frames)]
    meta = _annotate(sample.iloc[:0], 0, role[:0], y[:0])
    frame = client.persist(dd.from_delayed(annotated, meta=meta, verify_meta=False))
    return Partitioned(frame=frame, prepared=prepared, plan=plan, role=role, classes=tuple(classes), y=y,
                       n_partitions=len(pieces))


def _prepared_meta(recipe: Recipe, sample: pd.DataFrame, reserved: pd.DataFrame, counts: Sequence[tuple[int, ...]],
                   split: Any) -> Prepared:
    """What ``prepare`` would say about the whole table, from the reserved columns and the per-piece
    row counts; ``frame`` holds only the reserved columns (what the split needs)."""
    outcome = recipe.outcome
    target = outcome.target
    from pipelines.errors import RecipeError

    if not len(reserved):
        raise RecipeError("recipe.no_rows_left")
    task, positive, classes = decide_task(outcome, reserved[target])
    names = {target, split.group_column, split.time_column} - {None}
    features = tuple(str(c) for c in sample.columns if c not in names)
    if not features:
        raise RecipeError("recipe.no_features")
    totals = np.sum(np.asarray(counts, dtype=np.int64), axis=0)
    data_steps = [(n, s) for n, s in enumerate(recipe.steps, start=1) if s.enabled and s.level == "data"]
    flow = []
    for i, (number, step) in enumerate(data_steps):
        rows_in, rows_out = int(totals[i]), int(totals[i + 1])
        flow.append(FlowStep(step=number, kind=step.kind, rows_in=rows_in, rows_out=rows_out, columns_in=0,
                             columns_out=0, reason=step.exclusion_reason() if rows_out < rows_in else "",
                             reason_key=step.exclusion_key() if rows_out < rows_in else ""))
    return Prepared(frame=reserved, target=target, task=task, positive_label=positive, features=features,
                    group_column=split.group_column, time_column=split.time_column, cohort_flow=tuple(flow),
                    rows_in=int(totals[0]), classes=classes)


def _fit_on(make: Any, frames: list[pd.DataFrame], roles: tuple[int, ...], features: list[str], target: str,
            task: str) -> tuple[Any, Any]:
    from pipelines.automl.meta import meta_features

    rows = pd.concat([f.loc[f[ROLE].isin(roles), features + [target]] for f in frames], ignore_index=True)
    prep = make()
    prep.fit(rows[features], rows[target])
    return prep, meta_features(rows[features], rows[target], task)


def fit_preprocessor(client: Any, data: Partitioned, *, recipe: Recipe, folds: Sequence[int]) -> tuple[Any, Any]:
    """The recipe's model-level steps fitted on the rows of ``folds`` only (training rows: never the
    test part, never the validation fold being scored), plus the meta-features of those rows."""
    import dask

    sample = data.frame._meta
    prepared = dataclasses.replace(data.prepared, frame=sample)
    features = list(data.prepared.features)
    make = _Maker(build_preprocessor(recipe, prepared))
    task = dask.delayed(_fit_on, pure=True)(make, data.frame.to_delayed(), tuple(int(f) for f in folds), features,
                                            data.prepared.target, data.prepared.task)
    return client.compute(task, sync=True)


class _Maker:
    """An unfitted preprocessor that a worker can clone (the recipe object stays on the driver)."""

    def __init__(self, template: Any) -> None:
        self.template = template

    def __call__(self) -> Any:
        from sklearn.base import clone

        return clone(self.template)


def _to_matrix(frame: pd.DataFrame, prep: Any, features: list[str]) -> pd.DataFrame:
    from pipelines.automl.wrappers import ToMatrix

    X = ToMatrix().transform(prep.transform(frame[features]))
    out = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    out[ROW] = frame[ROW].to_numpy()
    out[ROLE] = frame[ROLE].to_numpy()
    out[LABEL] = frame[LABEL].to_numpy()
    return out


def matrices(client: Any, data: Partitioned, prep: Any) -> Any:
    """Every partition through the fitted preprocessing, where it lies: float columns ``f0..``
    plus ROW, ROLE and LABEL, persisted on the workers."""
    import dask
    import dask.dataframe as dd

    features = list(data.prepared.features)
    [shared] = client.scatter([prep], broadcast=True)
    parts = client.persist([dask.delayed(_to_matrix, pure=True)(f, shared, features)
                            for f in data.frame.to_delayed()])
    meta = client.compute(dask.delayed(_empty)(parts[0]), sync=True)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]
