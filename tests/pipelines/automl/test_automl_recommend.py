"""Meta-features and recommended settings from the shipped table and earlier runs."""

from __future__ import annotations

import json

import pytest

from pipelines.automl import SearchSettings, meta_features, run_search
from pipelines.automl.meta import MetaFeatures
from pipelines.automl.recommend import SHIPPED_TABLE, PastRun, load_shipped, recommend
from pipelines.automl.settings import ALL_FAMILIES
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor


def test_meta_features_of_a_real_table(heart_failure):
    X, y = heart_failure
    meta = meta_features(X, y, "binary")
    assert meta.n_rows == 299 and meta.n_features == X.shape[1]
    assert meta.prevalence == pytest.approx(96 / 299, abs=1e-4)
    assert 0 < meta.missing_share < 0.01
    assert meta.categorical_share == pytest.approx(1 / X.shape[1], abs=1e-4)
    assert MetaFeatures.from_dict(json.loads(json.dumps(meta.to_dict()))) == meta


def test_shipped_table_is_valid_and_holds_only_meta_features_and_params():
    runs = load_shipped()
    assert len(runs) >= 5
    raw = json.loads(SHIPPED_TABLE.read_text())
    assert raw["generated_by"] == "benchmarks/mine_recommendations.py"
    for run in runs:
        assert run.source == "shipped" and run.best
        assert {b["family"] for b in run.best} <= set(ALL_FAMILIES)
        assert set(raw["runs"][0]) == {"name", "meta", "metric", "best"}


def test_recommend_from_shipped_table_with_reasons(breast_cancer):
    X, y = breast_cancer
    meta = meta_features(X, y, "binary")
    rec = recommend(meta, exclude={"breast_cancer"})
    assert len(rec.neighbours) == 3 and "breast_cancer" not in dict(rec.neighbours)
    similar = [r for r in rec.reasons if r.key == "training.recommend_similar"]
    assert [r.params["name"] for r in similar] == [n for n, _ in rec.neighbours]
    assert all({"n", "prevalence", "predictors"} <= set(r.params) for r in similar)
    assert rec.enqueue and rec.settings.enqueue == rec.enqueue
    assert all(item["family"] in ALL_FAMILIES for item in rec.enqueue)
    assert SearchSettings.from_json(rec.settings.to_json()) == rec.settings


def test_an_earlier_workbench_run_on_a_near_identical_table_comes_first(heart_failure):
    X, y = heart_failure
    meta = meta_features(X, y, "binary")
    mine = PastRun(name="project 7: HF cohort", meta=meta, metric="roc_auc",
                   best=({"family": "linear", "params": {"C": 0.05, "l1_ratio": 1.0, "class_weight": None},
                          "cv_score": 0.8},))
    rec = recommend(meta, past_runs=[mine])
    assert rec.neighbours[0][0] == "project 7: HF cohort"
    assert rec.enqueue[0] == {"family": "linear", "params": {"C": 0.05, "l1_ratio": 1.0, "class_weight": None}}
    assert rec.reasons[0].params["source"] == "workbench"
    # and the search tries it right after the families' defaults
    settings = SearchSettings(families=("linear", "xgboost"), n_trials=4, time_budget_s=None, enqueue=rec.enqueue[:1])
    result = run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=CPU)
    recommended = [t for t in result.trials if t.source == "recommended"]
    assert len(recommended) == 1 and recommended[0].params["C"] == 0.05 and recommended[0].number == 2


def test_no_similar_table_for_another_task():
    meta = MetaFeatures(task="regression", n_rows=500, n_features=8, n_classes=0, prevalence=None,
                        missing_share=0.0, categorical_share=0.0)
    rec = recommend(meta)
    assert rec.neighbours == () and rec.enqueue == ()
    assert "training.recommend_no_similar" in [r.key for r in rec.reasons]


def test_large_tables_get_bigger_budgets_and_no_forest():
    meta = MetaFeatures(task="binary", n_rows=100_000, n_features=45, n_classes=2, prevalence=0.08,
                        missing_share=0.1, categorical_share=0.6)
    rec = recommend(meta, shipped=[])
    assert rec.settings.time_budget_s == 900 and "forest" not in rec.settings.families
    keys = [r.key for r in rec.reasons]
    assert "training.recommend_no_forest" in keys and "training.recommend_rare_outcome" in keys
