"""Reviewed preprocessing: recipes of typed steps, their preparation, compilation and review.

Public API (see the submodules for details)::

    Recipe, Step kinds (STEP_KINDS), SplitSpec        # the recipe, stored as JSON
    prepare(recipe, frame, tables=...) -> Prepared    # data-level steps, once
    build_preprocessor(recipe, prepared) -> Pipeline  # model-level steps, fitted per fold
    suggest_recipe(frame, target=...) -> Recipe       # a starting point the physician edits
    review(frame, prepared) -> tuple[ReviewWarning]   # what must be acknowledged before training
    diff(a, b) -> tuple[StepChange]                   # what changed between two versions
"""

from __future__ import annotations

from pipelines.recipe._base import Step, column_kind, schema_of
from pipelines.recipe._category_steps import (
    MergeCategories,
    OrderCategories,
    RecodeCategories,
)
from pipelines.recipe._data_steps import (
    DataStep,
    DefineOutcome,
    DeriveColumn,
    DropColumns,
    FilterRows,
    RenameColumn,
)
from pipelines.recipe._expr import Expression, parse_expression
from pipelines.recipe._model_steps import (
    ClipOutliers,
    Encode,
    GroupRareCategories,
    Impute,
    LogTransform,
    ModelStep,
    Scale,
)
from pipelines.recipe._prepare import FlowStep, Prepared, build_preprocessor, decide_task, prepare
from pipelines.recipe._recipe import STEP_KINDS, Recipe, StepChange, at_step, diff
from pipelines.recipe._review import ReviewWarning, review, single_column_auroc
from pipelines.recipe._suggest import suggest_recipe
from pipelines.recipe._time_series_step import (
    TIME_SERIES_STATISTICS,
    AggregateTimeSeries,
)
from pipelines.recipe._value_steps import ConvertUnits, EditCell, PlausibleRange
from pipelines.splits import SplitPlan, SplitSpec, make_split_plan

#: Fully qualified names of the custom transformers in a compiled preprocessor, for ``skops.io``.
TRUSTED_TYPES: tuple[str, ...] = tuple(
    f"pipelines.recipe._transformers.{name}"
    for name in ("FrameCoercer", "FrameImputer", "QuantileClipper", "FrameScaler", "SignedLog",
                 "RareCategoryGrouper", "CategoryEncoder", "FloatMatrix")
) + (
    # iterative imputation keeps a fitted scikit-learn IterativeImputer, which skops does not trust
    # by default; these are its parts (numpy.dtype is its recorded input dtype)
    "sklearn.impute._iterative.IterativeImputer",
    "sklearn.impute._iterative._ImputerTriplet",
    "numpy.dtype",
)

__all__ = [
    "Recipe", "Step", "DataStep", "ModelStep", "STEP_KINDS", "StepChange", "diff",
    "DefineOutcome", "FilterRows", "DropColumns", "DeriveColumn", "RecodeCategories", "MergeCategories",
    "OrderCategories", "ConvertUnits", "PlausibleRange", "EditCell", "RenameColumn", "AggregateTimeSeries",
    "TIME_SERIES_STATISTICS", "Impute", "ClipOutliers", "Scale", "LogTransform", "Encode",
    "GroupRareCategories", "Prepared", "FlowStep", "prepare", "decide_task", "at_step", "build_preprocessor",
    "SplitSpec", "SplitPlan", "make_split_plan", "suggest_recipe", "review", "ReviewWarning", "single_column_auroc",
    "Expression", "parse_expression", "TRUSTED_TYPES", "column_kind", "schema_of",
]
