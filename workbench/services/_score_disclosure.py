"""A multiclass run's training-time scores as a restricted reader gets them.

A run trained on macro AUROC or macro AUPRC records its holdout score (``test_score``, per model on the
leaderboard and for the final model) and the final model's out-of-fold score (``oof_score``): the macro
over EVERY class of the held-out part and of the training part, the parts whose one-vs-rest curves the
reader sees without the small classes (``_curve_disclosure``). K times that macro minus the drawn
classes' AUROCs is the hidden classes' AUROC sum (one hidden class: its AUROC, a fraction
k / (m (n - m)) that gives its m patients away). So wherever a class of the part is not drawn for the
reader, these scores become the drawn classes' macro of the same part (:func:`reader_multiclass_metrics`,
the value the leaderboard and the macro curve show), or None when no class is drawn. The reader's run
summary says so (``score_classes: "drawn"``). Other tasks, other metrics (log loss and the Brier score
are means over patients, not over classes) and owners are unchanged; ``cv_mean`` is a mean over folds
the reader does not see.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipelines import evaluation as ev
from workbench.services._curve_disclosure import DrawnClassesMetrics, reader_multiclass_metrics
from workbench.services._evaluate import prediction_columns

__all__ = ["MACRO_METRICS", "reader_scores", "replace_test_scores"]

MACRO_METRICS = {"roc_auc": "macro_auroc", "average_precision": "macro_auprc"}  # run metric -> macro measure


def _drawn_score(frame: pd.DataFrame, part: str, summary: dict[str, Any], limit: int) -> tuple[bool, float | None]:
    """(is a class of ``part`` left out for the reader?, the drawn classes' macro of the run's metric there)."""
    classes = list(summary.get("classes", []))
    rows = frame[frame["part"] == part]
    values = rows[prediction_columns(rows, "multiclass", classes)].to_numpy(dtype=float)
    mask = ~np.isnan(values).any(axis=1)  # the rows the score covers (out-of-fold: the folds' rows)
    if not mask.any():
        return False, None
    metrics = reader_multiclass_metrics(ev.multiclass_metrics(rows["y_true"].to_numpy()[mask], values[mask],
                                                              classes=classes, n_resamples=0), limit=limit)
    if not isinstance(metrics, DrawnClassesMetrics):
        return False, None
    value = getattr(metrics, MACRO_METRICS[str(summary.get("metric"))]).value
    return True, float(value) if math.isfinite(value) else None


def reader_scores(summary: dict[str, Any], model_ids: Sequence[int], predictions: Callable[[int], pd.DataFrame], *,
                  limit: int) -> tuple[dict[int, float | None], dict[str, Any]]:
    """({model id: its holdout score as the reader gets it}, for the models whose score changes, and the
    run summary with the leaderboard's and the final model's scores replaced). ``model_ids``: the run's
    models, the final one (rank 1) first. Nothing changes for other tasks or metrics, or ``limit=0``."""
    if not limit or summary.get("task") != "multiclass" or summary.get("metric") not in MACRO_METRICS:
        return {}, summary
    final = dict(summary.get("final") or {})
    final_id = _final_model(summary, model_ids)
    changed: dict[int, float | None] = {}
    oof: tuple[bool, float | None] = (False, None)
    for model_id in model_ids:
        frame = predictions(model_id)
        hidden, value = _drawn_score(frame, "test", summary, limit)
        if hidden:
            changed[model_id] = value
        if model_id == final_id:
            oof = _drawn_score(frame, "train", summary, limit)
    if not changed and not oof[0]:
        return {}, summary
    out = dict(summary, score_classes="drawn")
    out["leaderboard"] = [dict(m, test_score=changed[m.get("model_id")]) if m.get("model_id") in changed else m
                          for m in summary.get("leaderboard", [])]
    if final:
        if changed:  # the part's classes are the same for every model: the final's holdout score changes too
            final["test_score"] = changed.get(final_id) if final_id is not None else None
        if oof[0] or final_id is None:
            final["oof_score"] = oof[1]
        out["final"] = final
    return changed, out


def _final_model(summary: dict[str, Any], model_ids: Sequence[int]) -> int | None:
    """The model whose scores ``summary["final"]`` records: the leaderboard's model with its holdout score,
    the first (rank 1) among equals; None when none matches (its scores are then withheld)."""
    recorded = (summary.get("final") or {}).get("test_score")
    if recorded is None:
        return model_ids[0] if model_ids else None
    board = {m.get("model_id"): m.get("test_score") for m in summary.get("leaderboard", [])}
    return next((m for m in model_ids if board.get(m) == recorded), None)


def replace_test_scores(rows: Sequence[Any], changed: dict[int, float | None]) -> tuple[Any, ...]:
    """Leaderboard rows (``results.LeaderRow``) with the reader's holdout scores."""
    return tuple(dataclasses.replace(r, test_score=changed[r.model_id]) if r.model_id in changed else r for r in rows)
