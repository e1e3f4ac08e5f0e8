"""Meta-features of an approved recipe on its dataset, computed once per pair of hashes.

The training page recommends settings from them and a run's start decides its path (single
process or Dask) by the prepared row count. Both used to prepare the whole table in the web server
on every visit and start; now the approval stores them (it has just prepared the table for the
review) and anything approved before is computed once on first use. Callers check permissions:
these are aggregates of a table the caller may train on, no patient value.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipelines.automl import meta_features
from pipelines.automl.meta import MetaFeatures
from pipelines.recipe import Prepared, Recipe, make_split_plan
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import RecipeMeta

__all__ = ["TrainingMeta", "recall", "remember", "training_meta"]


@dataclass(frozen=True)
class TrainingMeta:
    meta: MetaFeatures  # of the training part of the seed-0 split
    prepared_rows: int  # rows after the recipe's data steps, before the split


def training_meta(recipe: Recipe, prepared: Prepared) -> TrainingMeta:
    plan = make_split_plan(recipe.split, prepared, seed=0)
    meta = meta_features(prepared.X.iloc[plan.train_index], prepared.y.iloc[plan.train_index], prepared.task)
    return TrainingMeta(meta=meta, prepared_rows=len(prepared.frame))


def recall(workbench: Workbench, *, recipe_sha256: str, dataset_sha256: str) -> TrainingMeta | None:
    with session_scope(workbench.engine, read_only=True) as session:
        row = session.scalars(select(RecipeMeta).where(RecipeMeta.recipe_sha256 == recipe_sha256,
                                                       RecipeMeta.dataset_sha256 == dataset_sha256)).first()
        if row is None:
            return None
        return TrainingMeta(meta=MetaFeatures.from_dict(row.meta), prepared_rows=row.prepared_rows)


def remember(workbench: Workbench, *, recipe_sha256: str, dataset_sha256: str, computed: TrainingMeta) -> None:
    try:
        with session_scope(workbench.engine) as session:
            session.add(RecipeMeta(recipe_sha256=recipe_sha256, dataset_sha256=dataset_sha256,
                                   meta=computed.meta.to_dict(), prepared_rows=computed.prepared_rows))
    except IntegrityError:  # stored meanwhile by another request: the same numbers from the same hashes
        pass
