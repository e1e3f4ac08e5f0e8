"""The results page's interactive curves for a multiclass run (Cleveland, ``num`` 0-4): one model
shows every class and its macro average, several models their macro averages side by side."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pages._results_charts import pr_chart, roc_chart
from pipelines.evaluation import multiclass_curves


def _evaluation(label, model, frame):
    y = frame["num"].to_numpy()
    prob = cross_val_predict(model, frame.drop(columns="num"), y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                             method="predict_proba")
    curves = multiclass_curves(y, prob, classes=[0, 1, 2, 3, 4], label=label, n_resamples=30)
    # the fields of a stored ModelEvaluation the charts read
    return SimpleNamespace(task="multiclass", label=label, main=SimpleNamespace(multiclass_curves=curves))


def test_one_model_every_class_several_models_their_macro_averages(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    linear = _evaluation("linear", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), frame)
    bayes = _evaluation("naive bayes", GaussianNB(), frame)
    roc = roc_chart([linear], x="FPR", y="TPR", macro="macro average")
    named = [t.name for t in roc.data if t.name]
    assert [n.split("  ")[0] for n in named] == ["0", "1", "2", "3", "4", "linear macro average"]
    assert named[-1].endswith(linear.main.multiclass_curves.macro_roc.auroc.format(2))
    both = pr_chart([linear, bayes], x="Recall", y="Precision", macro="macro average")
    assert [t.name.split("  ")[0] for t in both.data if t.name] == ["linear macro average", "naive bayes macro average"]
    assert sum(1 for t in both.data if t.fill == "toself") == 2  # a band for each macro curve


def test_korean_legends_write_intervals_with_a_dash_not_the_english_to(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    linear = _evaluation("linear", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), frame)
    for chart in (roc_chart, pr_chart):
        korean = [t.name for t in chart([linear], x="x", y="y", macro="\ub9e4\ud06c\ub85c \ud3c9\uade0", lang="ko").data
                  if t.name]
        english = [t.name for t in chart([linear], x="x", y="y", macro="macro average").data if t.name]
        assert all(" to " not in name and "\u2013" in name for name in korean), korean
        assert all(" to " in name for name in english), english


def test_the_legend_sits_below_the_axes_and_covers_no_curve(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    linear = _evaluation("linear", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), frame)
    for chart in (roc_chart, pr_chart):
        legend = chart([linear], x="x", y="y").layout.legend
        assert legend.orientation == "h" and legend.yanchor == "top" and legend.y < 0  # under the x axis title
