"""Models named for readers in exported figures, tables and the paper pack.

A stored evaluation keeps the model's code as its label (``xgboost``, ``hist_gb``): it is data,
written once, and the same for every language. What a journal prints is the model's name in the
figure's language, so exports rename the label when they draw, through the one lookup the pages
use (``i18n.named`` with the Train page's ``train.family.*`` names); runs stored before names
existed are drawn with names too, and a code without a name is left as it is. An ensemble's
hyperparameters list its members by family code and trial; the hyperparameter table prints them
as "XGBoost (trial 1) x 0.28" instead of the stored list of dicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.i18n import named, t
from workbench.services._evaluate import ModelEvaluation, PartResult

__all__ = ["model_name", "named_evaluation", "named_evaluations", "named_params"]

_FAMILY = "train.family."
_CURVES = ("roc", "pr", "calibration", "decision", "thresholds")


def model_name(code: str, lang: str) -> str:
    """A model's name for readers (``hist_gb`` -> "Histogram gradient boosting")."""
    return named(_FAMILY, code, lang)


def _relabel(item: Any, name: str) -> Any:
    return dataclasses.replace(item, label=name) if item is not None else None


def _part(part: PartResult, name: str) -> PartResult:
    changes: dict[str, Any] = {field: _relabel(getattr(part, field), name) for field in _CURVES}
    curves = part.multiclass_curves
    if curves is not None:  # the model's label and its macro average; the per-class curves are named by class
        changes["multiclass_curves"] = dataclasses.replace(curves, label=name, macro_roc=_relabel(curves.macro_roc, name),
                                                           macro_pr=_relabel(curves.macro_pr, name))
    return dataclasses.replace(part, **changes)


def named_evaluation(evaluation: ModelEvaluation, lang: str) -> ModelEvaluation:
    """The evaluation with its label, and the label of every curve drawn from it, as a name."""
    name = model_name(evaluation.label, lang)
    if name == evaluation.label:
        return evaluation
    return dataclasses.replace(evaluation, label=name, parts=tuple(_part(p, name) for p in evaluation.parts))


def named_evaluations(evaluations: Iterable[ModelEvaluation], lang: str) -> list[ModelEvaluation]:
    return [named_evaluation(e, lang) for e in evaluations]


def _member(item: Any, lang: str) -> str:
    if not isinstance(item, dict) or "family" not in item:
        return str(item)
    weight = item.get("weight")
    return t("export.ensemble_member", lang, model=model_name(str(item["family"]), lang), trial=item.get("trial", ""),
             weight=f"{weight:.2f}" if isinstance(weight, (int, float)) else weight)


def named_params(params: Mapping[int, Mapping[str, Any]], lang: str) -> dict[int, dict[str, Any]]:
    """Hyperparameters by model id for the tables; an ensemble's ``members`` named."""
    out: dict[int, dict[str, Any]] = {}
    for model_id, values in params.items():
        values = dict(values)
        if isinstance(values.get("members"), list):
            values["members"] = "; ".join(_member(item, lang) for item in values["members"])
        out[model_id] = values
    return out
