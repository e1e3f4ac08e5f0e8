"""Evaluation: metrics with confidence intervals, curves, tests and explanations.

Compute first, draw later: every function here takes plain arrays or DataFrames and returns a
frozen dataclass that ``pipelines.figures`` and ``pipelines.tables`` render. Nothing here knows
about runs, databases or pages.
"""

from __future__ import annotations

from pipelines.evaluation._estimate import Estimate, resample_indices
from pipelines.evaluation.binary import (
    BinaryMetrics,
    ConfusionMatrix,
    ThresholdChoice,
    binary_metrics,
    choose_threshold,
)
from pipelines.evaluation.curves import (
    CalibrationCurve,
    MulticlassCurves,
    PrCurve,
    RocCurve,
    ThresholdCurve,
    calibration_curve,
    multiclass_curves,
    pr_curve,
    roc_curve,
    threshold_curve,
)
from pipelines.evaluation.decision_curve import DecisionCurve, decision_curve
from pipelines.evaluation.dependence import in_input_units, ranked_features, strongest_interaction
from pipelines.evaluation.delong import DeLongTest, delong_auroc, delong_test
from pipelines.evaluation.explain import (
    Contributions,
    FeatureImportance,
    by_input,
    feature_contributions,
)
from pipelines.evaluation.feature_names import LearnerInput, learner_input
from pipelines.evaluation.multiclass import ClassMetrics, MulticlassMetrics, multiclass_metrics
from pipelines.evaluation.permutation import permutation_importance
from pipelines.evaluation.regression import RegressionMetrics, regression_metrics
from pipelines.evaluation.subgroups import SubgroupPerformance, SubgroupRow, age_bands, subgroup_performance
from pipelines.evaluation.table_one import TableOne, TableOneRow, table_one

__all__ = [
    "Estimate", "resample_indices",
    "BinaryMetrics", "ConfusionMatrix", "ThresholdChoice", "binary_metrics", "choose_threshold",
    "CalibrationCurve", "PrCurve", "RocCurve", "ThresholdCurve",
    "calibration_curve", "pr_curve", "roc_curve", "threshold_curve", "MulticlassCurves", "multiclass_curves",
    "DecisionCurve", "decision_curve",
    "DeLongTest", "delong_auroc", "delong_test",
    "in_input_units", "ranked_features", "strongest_interaction",
    "Contributions", "FeatureImportance", "by_input", "feature_contributions", "permutation_importance",
    "LearnerInput", "learner_input",
    "ClassMetrics", "MulticlassMetrics", "multiclass_metrics",
    "RegressionMetrics", "regression_metrics",
    "SubgroupPerformance", "SubgroupRow", "age_bands", "subgroup_performance",
    "TableOne", "TableOneRow", "table_one",
]
