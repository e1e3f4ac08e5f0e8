"""Evaluating one stored model from its predictions: the numbers every page and export shows.

Kept free of the database so that ``workbench report`` (a model folder, no workbench) computes
exactly what the dashboard computes. The operating threshold is chosen on the out-of-fold
predictions (the training part) and then applied unchanged to the holdout, so the holdout
sensitivity and specificity are honest; without out-of-fold predictions it is chosen on the
holdout and the model card says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines import evaluation as ev
from pipelines.evaluation.progress import listening
from pipelines.errors import EvaluationError, InputError
from workbench.services._codec import register

__all__ = ["EvalOptions", "PartResult", "ModelEvaluation", "evaluate_model", "prediction_columns",
           "contributions_for", "PARTS"]

PARTS = ("test", "train")  # holdout first: it is what a paper reports
Progress = Callable[[float, str], None]


@register
@dataclass(frozen=True)
class EvalOptions:
    """What the user chose; its digest names the stored evaluation."""

    n_resamples: int = 1000
    seed: int = 0
    threshold_rule: str = "youden"
    threshold_target: float | None = None
    subgroup_columns: tuple[str, ...] = ()
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["subgroup_columns"] = list(self.subgroup_columns)
        return data


@register
@dataclass(frozen=True)
class PartResult:
    """One part of the data (``test`` holdout or ``train`` out-of-fold) of one model."""

    part: str
    n: int
    metrics: Any  # BinaryMetrics | MulticlassMetrics | RegressionMetrics
    roc: ev.RocCurve | None = None
    pr: ev.PrCurve | None = None
    calibration: ev.CalibrationCurve | None = None
    decision: ev.DecisionCurve | None = None
    thresholds: ev.ThresholdCurve | None = None
    multiclass_curves: ev.MulticlassCurves | None = None  # one-vs-rest ROC and PR per class


@register
@dataclass(frozen=True)
class ModelEvaluation:
    model_id: int
    label: str
    task: str
    options: EvalOptions
    parts: tuple[PartResult, ...]
    threshold_source: str  # "train" (out-of-fold) or "test"
    subgroups: ev.SubgroupPerformance | None = None
    table_one: ev.TableOne | None = None
    importance: ev.FeatureImportance | None = None
    shap_importance: tuple[tuple[str, float], ...] = ()  # mean |SHAP| per feature (aggregate)
    notes: tuple[str, ...] = field(default_factory=tuple)
    shap_missing: tuple[str, dict[str, Any]] | None = None  # why there are no SHAP values: (key, params)

    def part(self, name: str) -> PartResult | None:
        return next((p for p in self.parts if p.part == name), None)

    @property
    def main(self) -> PartResult:
        """The holdout when there is one, else the out-of-fold part."""
        return self.part("test") or self.parts[0]


def prediction_columns(frame: pd.DataFrame, task: str, classes: list[Any]) -> list[str]:
    if task == "binary":
        return ["probability"]
    if task == "regression":
        return ["prediction"]
    return [f"p_{c}" for c in classes]


def _check_options(options: EvalOptions) -> None:
    if not isinstance(options.n_resamples, int) or not 0 <= options.n_resamples <= 20000:
        raise InputError("results.bad_resamples", value=options.n_resamples)
    if options.threshold_rule not in ("youden", "sensitivity", "specificity", "fixed"):
        raise InputError("results.bad_threshold_rule", value=options.threshold_rule)
    if options.threshold_rule != "youden" and options.threshold_target is None:
        raise InputError("results.threshold_target_needed", rule=options.threshold_rule)


def _groups(prepared_frame: pd.DataFrame | None, group_column: str | None, rows: np.ndarray) -> np.ndarray | None:
    if prepared_frame is None or not group_column or group_column not in prepared_frame.columns:
        return None
    return prepared_frame[group_column].to_numpy()[rows]


def _binary_part(part: str, y: np.ndarray, p: np.ndarray, g: np.ndarray | None, threshold: ev.ThresholdChoice,
                 label: str, o: EvalOptions, step: _Steps) -> PartResult:
    common = dict(groups=g, n_resamples=o.n_resamples, seed=o.seed, level=o.level)
    step(f"{part}:metrics")
    metrics = ev.binary_metrics(y, p, threshold=threshold, **common)
    step(f"{part}:roc")
    roc = ev.roc_curve(y, p, label=label, **common)
    step(f"{part}:pr")
    pr = ev.pr_curve(y, p, label=label, **common)
    step(f"{part}:calibration")
    return PartResult(part=part, n=len(y), metrics=metrics, roc=roc, pr=pr,
                      calibration=ev.calibration_curve(y, p, label=label, **common),
                      decision=ev.decision_curve(y, p, label=label), thresholds=ev.threshold_curve(y, p, label=label))


class _Steps:
    """Reports ``(fraction done, step)`` before each step of one evaluation, the step as a token
    (``test:roc``, ``subgroups``, ``shap``) a page translates, and again every few bootstrap
    resamples (or shuffled scores) within a step: that is where the time goes, and where a
    cancelled job stops."""

    _EVERY = 20  # resamples between reports

    def __init__(self, on_progress: Progress | None, n_resamples: int) -> None:
        self.on_progress, self.n_resamples = on_progress, max(n_resamples, 1)
        self.total, self.finished, self.current, self.resamples = 1, 0, "start", 0

    def __call__(self, what: str) -> None:
        if self.current != "start":
            self.finished += 1
        self.current, self.resamples = what, 0
        self._report(0.0)

    def resampled(self) -> None:
        self.resamples += 1
        if self.resamples % self._EVERY == 0:  # subgroups draw once per subgroup: the bar may wait at 99%
            self._report(min(self.resamples / self.n_resamples, 0.99))

    def _report(self, within: float) -> None:
        if self.on_progress is not None:
            self.on_progress(min((self.finished + within) / max(self.total, 1), 1.0), self.current)


def _subgroup_frame(prepared_frame: pd.DataFrame, columns: tuple[str, ...], rows: np.ndarray) -> pd.DataFrame:
    missing = [c for c in columns if c not in prepared_frame.columns]
    if missing:
        raise InputError("results.unknown_subgroup_column", column=missing[0],
                         allowed=", ".join(map(str, list(prepared_frame.columns)[:20])))
    out = {}
    for column in columns:
        series = prepared_frame[column].iloc[rows].reset_index(drop=True)
        numeric = pd.api.types.is_numeric_dtype(series) and series.dtype != bool
        if numeric and series.nunique() > 8:
            # a continuous column: age in the usual bands, anything else split at its median
            if str(column).lower() in ("age", "age_years", "나이", "연령"):
                series = ev.age_bands(series)
            else:
                median = float(series.median())
                series = pd.Series(np.where(series.isna(), None, np.where(series < median, f"< {median:g}",
                                                                            f"\u2265 {median:g}")))
        out[str(column)] = series
    return pd.DataFrame(out)


def evaluate_model(*, model_id: int, label: str, predictions: pd.DataFrame, summary: dict[str, Any],
                   options: EvalOptions, prepared_frame: pd.DataFrame | None = None,
                   model: Any | None = None, on_progress: Progress | None = None) -> ModelEvaluation:
    """Metrics with CIs, curves, subgroups, Table 1 and importance of one model.

    ``predictions`` holds this model's rows of the run's prediction file; ``prepared_frame`` is the
    analysis table (for Table 1, subgroups and importance) and ``model`` the fitted pipeline (for
    importance); either may be missing, and then those parts are left out. ``on_progress`` hears
    ``(fraction, step)`` before each step and every few bootstrap resamples (a job reports it and
    may stop there: cancelling raises).
    """
    _check_options(options)
    step = _Steps(on_progress, options.n_resamples)
    with listening(step.resampled):
        return _evaluate(model_id=model_id, label=label, predictions=predictions, summary=summary, options=options,
                         prepared_frame=prepared_frame, model=model, step=step)


def _evaluate(*, model_id: int, label: str, predictions: pd.DataFrame, summary: dict[str, Any], options: EvalOptions,
              prepared_frame: pd.DataFrame | None, model: Any | None, step: _Steps) -> ModelEvaluation:
    task = summary["task"]
    classes = list(summary.get("classes", []))
    if predictions.empty:
        raise EvaluationError("results.no_predictions", model_id=model_id)
    cols = prediction_columns(predictions, task, classes)
    group_column = summary.get("group_column")
    parts_frames = {name: predictions[predictions["part"] == name].sort_values("row") for name in PARTS}
    parts_frames = {k: v for k, v in parts_frames.items() if len(v)}
    notes: list[str] = []
    results: list[PartResult] = []
    threshold_source = "train" if "train" in parts_frames else "test"
    explained = prepared_frame is not None and model is not None and bool(summary.get("features"))
    by_subgroup = task == "binary" and bool(options.subgroup_columns)
    step.total = (len(parts_frames) * (4 if task == "binary" else 1)
                  + (prepared_frame is not None) * (1 + by_subgroup + 2 * explained))
    if task == "binary":
        basis = parts_frames[threshold_source]
        bmask = basis["probability"].notna().to_numpy()
        choice = ev.choose_threshold(basis["y_true"].to_numpy()[bmask], basis["probability"].to_numpy()[bmask],
                                     rule=options.threshold_rule, target=options.threshold_target)
        if threshold_source == "test":
            notes.append("threshold_on_test")
        for name, frame in parts_frames.items():
            mask = frame["probability"].notna().to_numpy()
            rows = frame["row"].to_numpy()[mask]
            results.append(_binary_part(name, frame["y_true"].to_numpy()[mask].astype(int),
                                        frame["probability"].to_numpy()[mask], _groups(prepared_frame, group_column, rows),
                                        choice, label, options, step))
    else:
        for name, frame in parts_frames.items():
            values = frame[cols].to_numpy(dtype=float)
            mask = ~np.isnan(values).any(axis=1)
            rows = frame["row"].to_numpy()[mask]
            common = dict(groups=_groups(prepared_frame, group_column, rows), n_resamples=options.n_resamples,
                          seed=options.seed, level=options.level)
            step(f"{name}:metrics")
            if task == "regression":
                metrics = ev.regression_metrics(frame["y_true"].to_numpy(dtype=float)[mask], values[mask, 0], **common)
            else:
                metrics = ev.multiclass_metrics(frame["y_true"].to_numpy()[mask], values[mask], classes=classes, **common)
            curves = None if task == "regression" else ev.multiclass_curves(
                frame["y_true"].to_numpy()[mask], values[mask], classes=classes, label=label, **common)
            results.append(PartResult(part=name, n=int(mask.sum()), metrics=metrics, multiclass_curves=curves))
    main_name = "test" if "test" in parts_frames else "train"
    main_frame = parts_frames[main_name]
    subgroups = table = importance = None
    shap: tuple[tuple[str, float], ...] = ()
    shap_missing: tuple[str, dict[str, Any]] | None = None
    if prepared_frame is not None:
        target = summary["target"]
        features = list(summary.get("features", []))
        if by_subgroup:
            step("subgroups")
            mask = main_frame["probability"].notna().to_numpy()
            rows = main_frame["row"].to_numpy()[mask]
            subgroups = ev.subgroup_performance(
                main_frame["y_true"].to_numpy()[mask].astype(int), main_frame["probability"].to_numpy()[mask],
                _subgroup_frame(prepared_frame, tuple(options.subgroup_columns), rows),
                threshold=choice.value, groups=_groups(prepared_frame, group_column, rows),
                n_resamples=options.n_resamples, seed=options.seed, level=options.level)
        step("table_one")
        if task != "regression" and target in prepared_frame.columns:
            table = ev.table_one(prepared_frame, outcome=target, columns=[c for c in features if c in prepared_frame.columns])
        if explained:
            rows = main_frame["row"].to_numpy()
            X = prepared_frame.iloc[rows][features]
            y = main_frame["y_true"].to_numpy()
            if task == "binary":
                y = y.astype(int)
            elif task == "multiclass":  # probability columns are in the order of ``classes``
                position = {str(c): i for i, c in enumerate(classes)}
                y = np.array([position.get(str(v), -1) for v in y])
            metric = {"binary": "roc_auc", "regression": "r2"}.get(task, "accuracy")
            step("importance")
            importance = ev.permutation_importance(model, X, y, metric=metric, n_repeats=10, seed=options.seed)
            step("shap")
            try:
                contributions = ev.feature_contributions(model, X)
                shap = tuple(sorted(zip(contributions.features, map(float, contributions.mean_abs())),
                                    key=lambda kv: -kv[1]))
            except EvaluationError as refused:  # kept, so the page can say why there are no SHAP values
                shap_missing = (refused.key, dict(refused.params))
    return ModelEvaluation(model_id=model_id, label=label, task=task, options=options, parts=tuple(results),
                           threshold_source=threshold_source, subgroups=subgroups, table_one=table,
                           importance=importance, shap_importance=shap, notes=tuple(notes), shap_missing=shap_missing)


def contributions_for(model: Any, X: pd.DataFrame) -> ev.Contributions | None:
    """Exact SHAP values when the model can be broken down (see ``feature_contributions``), else None."""
    try:
        return ev.feature_contributions(model, X)
    except EvaluationError:
        return None
