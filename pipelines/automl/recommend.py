"""Recommended settings for a physician who will not tune anything.

Two sources of experience, both reduced to meta-features and hyperparameters (never a row of
another project's data): a small table shipped with the workbench, mined offline from public
clinical datasets by ``benchmarks/mine_recommendations.py``, and the caller's list of this
workbench's earlier finished runs. The best configurations of the most similar tables are enqueued
as the first trials, and every recommendation carries a reason the page can show
("similar to pima_diabetes: n=768, prevalence=0.35").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.automl.device import Notice
from pipelines.automl.meta import MetaFeatures
from pipelines.automl.settings import ALL_FAMILIES, SearchSettings
from pipelines.errors import TrainingError

__all__ = ["SHIPPED_TABLE", "PastRun", "Recommendation", "load_shipped", "past_run_from_dict", "recommend"]

SHIPPED_TABLE = Path(__file__).resolve().parents[1] / "data" / "recommendations.json"
# Scale of each meta-feature coordinate (log10 rows, log10 predictors, prevalence, missing share,
# categorical share): a difference of one scale unit counts as much in every coordinate.
_SCALES = (0.5, 0.5, 0.15, 0.15, 0.3)


@dataclass(frozen=True)
class PastRun:
    """One finished run: which table (by name only), its meta-features and its best
    configurations (``{"family", "params", "cv_score"}``, best first)."""

    name: str
    meta: MetaFeatures
    best: tuple[dict[str, Any], ...]
    metric: str
    source: str = "workbench"  # "shipped" | "workbench"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "meta": self.meta.to_dict(), "best": [dict(b) for b in self.best],
                "metric": self.metric, "source": self.source}


def past_run_from_dict(data: dict[str, Any], *, source: str | None = None) -> PastRun:
    return PastRun(
        name=str(data["name"]),
        meta=MetaFeatures.from_dict(data["meta"]),
        best=tuple({"family": b["family"], "params": dict(b["params"]), "cv_score": b.get("cv_score")} for b in data["best"]),
        metric=str(data["metric"]),
        source=source or str(data.get("source", "workbench")),
    )


@dataclass(frozen=True)
class Recommendation:
    settings: SearchSettings
    neighbours: tuple[tuple[str, float], ...]  # (table name, distance), nearest first
    reasons: tuple[Notice, ...]
    meta: MetaFeatures
    enqueue: tuple[dict[str, Any], ...] = field(default=())


def load_shipped(path: str | Path = SHIPPED_TABLE) -> tuple[PastRun, ...]:
    path = Path(path)
    if not path.is_file():
        raise TrainingError("training.recommendations_missing", path=str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(past_run_from_dict(run, source="shipped") for run in data["runs"])


def _distance(a: MetaFeatures, b: MetaFeatures) -> float:
    return math.sqrt(sum(((x - y) / s) ** 2 for x, y, s in zip(a.vector(), b.vector(), _SCALES)))


def recommend(
    meta: MetaFeatures,
    *,
    past_runs: Sequence[PastRun] = (),
    shipped: Iterable[PastRun] | None = None,
    exclude: Iterable[str] = (),
    k: int = 3,
    seed: int = 0,
) -> Recommendation:
    """Settings for a table with these meta-features.

    ``shipped`` defaults to the table in ``pipelines/data``; ``exclude`` drops runs by name (a
    benchmark must not be recommended configurations mined on its own test rows).
    """
    excluded = set(exclude)
    pool = [*(load_shipped() if shipped is None else shipped), *past_runs]
    pool = [r for r in pool if r.meta.task == meta.task and r.name not in excluded]
    ranked = sorted(pool, key=lambda r: (_distance(meta, r.meta), r.source != "workbench", r.name))[:k]
    reasons: list[Notice] = []
    enqueue: list[dict[str, Any]] = []
    seen: set[str] = set()
    for run in ranked:
        reasons.append(Notice("training.recommend_similar", {
            "name": run.name, "n": run.meta.n_rows, "predictors": run.meta.n_features,
            "prevalence": "-" if run.meta.prevalence is None else f"{run.meta.prevalence:.2f}",
            "source": run.source,
        }))
        for best in run.best[:3]:  # the nearest tables' three best configurations each
            if best["family"] not in ALL_FAMILIES:
                continue
            key = json.dumps([best["family"], best["params"]], sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                enqueue.append({"family": best["family"], "params": dict(best["params"])})
    if not ranked:
        reasons.append(Notice("training.recommend_no_similar", {"task": meta.task}))

    cells = meta.n_rows * max(meta.n_features, 1)
    if cells <= 50_000:
        budget = 60.0
    elif cells <= 2_000_000:
        budget = 300.0
    else:
        budget = 900.0
    reasons.append(Notice("training.recommend_budget", {"seconds": int(budget), "n": meta.n_rows,
                                                          "predictors": meta.n_features}))
    families = ALL_FAMILIES
    if meta.n_rows > 50_000:
        families = tuple(f for f in ALL_FAMILIES if f != "forest")
        reasons.append(Notice("training.recommend_no_forest", {"n": meta.n_rows}))
    if meta.task == "binary" and meta.prevalence is not None and min(meta.prevalence, 1 - meta.prevalence) < 0.1:
        reasons.append(Notice("training.recommend_rare_outcome", {"prevalence": f"{meta.prevalence:.3f}"}))
    settings = SearchSettings(families=families, time_budget_s=budget, seed=seed, enqueue=tuple(enqueue))
    return Recommendation(
        settings=settings,
        neighbours=tuple((r.name, round(_distance(meta, r.meta), 4)) for r in ranked),
        reasons=tuple(reasons),
        meta=meta,
        enqueue=tuple(enqueue),
    )
