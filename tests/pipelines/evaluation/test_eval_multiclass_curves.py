"""One-vs-rest ROC and PR curves of a multiclass outcome (Cleveland heart disease, ``num`` 0-4),
checked against scikit-learn: every class curve, the macro AUROC and AUPRC, and the macro ROC as
the class TPRs averaged at each false-positive rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, label_binarize

from pipelines.errors import EvaluationError
from pipelines.evaluation import multiclass_curves, multiclass_metrics

CLASSES = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def cleveland(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    y = frame["num"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    prob = cross_val_predict(model, frame.drop(columns="num"), y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                             method="predict_proba")
    return y, prob


def test_class_curves_and_macro_averages_equal_scikit_learn(cleveland):
    y, prob = cleveland
    curves = multiclass_curves(y, prob, classes=CLASSES, label="LR", n_resamples=100, seed=0)
    assert curves.classes == ("0", "1", "2", "3", "4") and curves.absent == ()
    onehot = label_binarize(y, classes=CLASSES)
    for c, roc, pr in zip(CLASSES, curves.roc, curves.pr):
        fpr, tpr, _ = skm.roc_curve(onehot[:, c], prob[:, c], drop_intermediate=False)
        np.testing.assert_allclose(roc.fpr, fpr)
        np.testing.assert_allclose(roc.tpr, tpr)
        assert roc.auroc.value == pytest.approx(skm.roc_auc_score(onehot[:, c], prob[:, c]))
        assert pr.auprc.value == pytest.approx(skm.average_precision_score(onehot[:, c], prob[:, c]))
        assert pr.prevalence == pytest.approx(onehot[:, c].mean())
        assert roc.auroc.lower < roc.auroc.value < roc.auroc.upper
    assert curves.macro_roc.auroc.value == pytest.approx(skm.roc_auc_score(y, prob, multi_class="ovr", average="macro"))
    assert curves.macro_pr.auprc.value == pytest.approx(skm.average_precision_score(onehot, prob, average="macro"))
    # the macro ROC: at every false-positive rate, the mean over classes of scikit-learn's step TPR
    expected = []
    for c in CLASSES:
        fpr, tpr, _ = skm.roc_curve(onehot[:, c], prob[:, c])
        expected.append([tpr[fpr <= x].max() for x in curves.macro_roc.fpr])
    np.testing.assert_allclose(curves.macro_roc.tpr, np.mean(expected, axis=0))
    assert curves.macro_roc.fpr[0] == 0 and curves.macro_roc.fpr[-1] == 1 and curves.macro_roc.tpr[-1] == 1
    on_grid = np.interp(curves.macro_roc.grid, curves.macro_roc.fpr, curves.macro_roc.tpr)
    assert np.mean((curves.macro_roc.tpr_lower - 0.02 <= on_grid) & (on_grid <= curves.macro_roc.tpr_upper + 0.02)) > 0.9


def test_intervals_agree_with_the_multiclass_metrics(cleveland):
    """Same seed, same class-stratified resamples: the legend's numbers are the table's numbers."""
    y, prob = cleveland
    curves = multiclass_curves(y, prob, classes=CLASSES, n_resamples=60, seed=4)
    metrics = multiclass_metrics(y, prob, classes=CLASSES, n_resamples=60, seed=4)
    def same(a, b):
        return (a.value, a.lower, a.upper) == pytest.approx((b.value, b.lower, b.upper), abs=1e-12)

    assert same(curves.macro_roc.auroc, metrics.macro_auroc) and same(curves.macro_pr.auprc, metrics.macro_auprc)
    assert all(same(roc.auroc, per.auroc) for roc, per in zip(curves.roc, metrics.per_class))
    assert metrics.macro_auroc.upper - metrics.macro_auroc.lower > 0.02  # real intervals, not points


def test_a_class_absent_from_the_part_has_no_curve_and_bad_input_is_refused(cleveland):
    y, prob = cleveland
    keep = y != 4
    curves = multiclass_curves(y[keep], prob[keep], classes=CLASSES, n_resamples=20)
    assert curves.absent == ("4",) and curves.classes == ("0", "1", "2", "3")
    assert curves.macro_roc.auroc.value == pytest.approx(np.mean([r.auroc.value for r in curves.roc]))
    with pytest.raises(EvaluationError) as err:
        multiclass_curves(y, prob[:, :3], classes=CLASSES, n_resamples=0)
    assert err.value.key == "evaluation.shape_mismatch"
    with pytest.raises(EvaluationError) as err:
        multiclass_curves(y, prob, classes=[0, 1, 2, 3, 5], n_resamples=0)
    assert err.value.key == "evaluation.unknown_class"
