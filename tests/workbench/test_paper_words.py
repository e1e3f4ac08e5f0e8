"""The paper pack's texts say how a run was set up in the reader's language, not in the codes its
settings store: every split kind, calibration method and threshold rule has words in English and
Korean, a recipe step reads as the Review page lists it, and a pack written before family codes were
added to MANIFEST.json still reads. (The texts of a whole pack are checked on a real run in
test_export_names.py and test_export_service.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.splits import SPLIT_KINDS
from workbench.services._paper_texts import _calibration_words, _describe_step, _split_words, rule_name, task_name
from workbench.services.export import read_pack_models


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_split_kind_calibration_rule_and_task_has_words(lang):
    for kind in SPLIT_KINDS:
        words = _split_words({"kind": kind, "time_column": "admitted"}, {"task": "binary"}, lang)
        assert kind not in words and words.strip(), (kind, words)
    assert "admitted" in _split_words({"kind": "temporal", "time_column": "admitted"}, {}, lang)
    # a regression's K-fold split is not stratified: no classes
    assert _split_words({"kind": "stratified_kfold"}, {"task": "regression"}, lang) != \
        _split_words({"kind": "stratified_kfold"}, {"task": "binary"}, lang)
    sentences = set()
    for method in ("none", "sigmoid", "isotonic"):
        alone = _calibration_words({"calibration": method}, lang)
        compared = _calibration_words({"calibration": method, "calibration_scores": {"none": 0.2, method: 0.1,
                                                                                     "sigmoid": 0.3}}, lang)
        assert alone.endswith(".") and alone != method and compared.startswith(alone) and len(compared) > len(alone)
        sentences.add(alone)
    assert len(sentences) == 3
    assert _calibration_words({"calibration": "not applicable"}, lang) == ""  # a regression says nothing
    rules = {rule: rule_name(SimpleNamespace(threshold_rule=rule, threshold_target=0.9), lang)
             for rule in ("youden", "sensitivity", "specificity", "fixed")}
    assert len(set(rules.values())) == 4 and all(name != rule and "{" not in name for rule, name in rules.items()), rules
    assert "0.9" in rule_name(SimpleNamespace(threshold_rule="sensitivity", threshold_target=0.9), lang)
    for task in ("binary", "multiclass", "regression"):
        assert task_name(task, lang) != task or lang == "en" and task == "regression"


def test_a_step_reads_as_the_review_page_lists_it_and_an_unknown_one_as_stored():
    impute = {"kind": "impute", "enabled": True, "columns": [], "numeric": "median", "categorical": "most_frequent",
              "add_indicator": False}
    assert _describe_step(impute, "en").startswith("Fill missing values in all columns: numbers by the median")
    assert _describe_step(impute, "ko").startswith("모든 열의 결측값 채우기")
    # a step this version does not know (a newer recipe) is still reported, by its code and parameters
    assert _describe_step({"kind": "winsorise", "enabled": True, "limit": 0.01}, "en") == "winsorise (limit = 0.01)"


def test_models_of_a_pack_written_before_family_codes_still_read():
    old = ["Logistic / linear regression", "XGBoost"]
    new = [{"family": "linear", "name": "Logistic / linear regression"}, {"family": "xgboost", "name": "XGBoost"}]
    assert read_pack_models(old) == [{"family": None, "name": "Logistic / linear regression"},
                                     {"family": None, "name": "XGBoost"}]
    assert read_pack_models(new) == new
    assert read_pack_models(None) == []


def test_a_dropped_column_is_one_column_in_english_and_several_are_columns():
    from pipelines.recipe._data_steps import DropColumns
    from workbench.services.review import describe_step

    assert describe_step(DropColumns(columns=("time",), note=""), "en").startswith("Drop the column time (")
    assert describe_step(DropColumns(columns=("time", "id"), note=""), "en").startswith("Drop the columns time, id (")
    assert describe_step(DropColumns(columns=("time",), note=""), "ko").startswith("열 삭제: time (")
