"""A collaborator's training-time holdout score of a multiclass run (Runs side by side, the run overview,
the paper pack's reproduce settings) gives no hidden class back: where a class of the held-out part is
not drawn for them, it is the drawn classes' macro, as the leaderboard's is.

Real rows: the Cleveland records with the crude real score of the macro curve tests, held-out part of 80
(seed 5), grades 49/10/12/8/1: grades 4 (1 patient) and 3 are not drawn. The run (trained on macro
AUROC) records that score as its model's holdout score; a second model is the same score made blunter.
Before the change the collaborator's Runs-side-by-side value (3 decimals) and the pack's leaderboard (full
precision) were the macro over all five grades: five times it minus the three drawn grades' AUROCs (their
curves' legends) was the two hidden grades' AUROC sum. The training part (223 rows) hides no grade: its
out-of-fold score stays, and the owner keeps every number.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.automl.metrics import get_metric
from pipelines.errors import PermissionDenied
from tests.workbench.test_curve_disclosure_macro import CLASSES, SUMMARY, cleveland_predictions
from workbench.db.engine import session_scope
from workbench.db.models import ModelRow, Run
from workbench.services._access import load_actor
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._paper import PackInput
from workbench.services._paper_texts import reproduce_settings

LIMIT = 5
AUROC = get_metric("roc_auc", "multiclass")
COLUMNS = [f"p_{c}" for c in CLASSES]


def _score(predictions, part: str) -> float:
    rows = predictions[predictions["part"] == part]
    return AUROC.value(rows["y_true"].to_numpy(), rows[COLUMNS].to_numpy())


def store_run(workbench, project_id: int, datasets_dir):
    """A run of the project holding the crude score (model A, rank 1) and a blunter one (model B) on
    Cleveland rows, stored as training stores them (leaderboard, final, predictions): ``(run id, the
    evaluation of model A)``."""
    frame, score = cleveland_predictions(datasets_dir, 80, 5)
    blunt = score.assign(**{c: (score[c] + 0.2) / (1 + 0.2 * len(CLASSES)) for c in COLUMNS})
    with session_scope(workbench.engine) as session:
        stored = Run(project_id=project_id, summary={})
        models = [ModelRow(family=family, rank=rank) for rank, family in ((1, "linear"), (2, "xgboost"))]
        session.add(stored)
        session.flush()
        board, tables = [], []
        for model, predictions in zip(models, (score, blunt)):
            test = _score(predictions, "test")
            model.run_id, model.metrics = stored.id, {"cv_mean": 0.7, "cv_sd": 0.02, "test_score": test,
                                                      "metric": "roc_auc"}
            session.add(model)
            session.flush()
            board.append({"model_id": model.id, "rank": model.rank, "name": model.family, "family": model.family,
                          "params": {}, "cv_mean": 0.7, "cv_sd": 0.02, "test_score": test, "device": "cpu"})
            tables.append(predictions.assign(model_id=model.id, fold=np.where(predictions["part"] == "train", 0, -1)))
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(pd.concat(tables, ignore_index=True)), buffer)
        stored.summary = {**SUMMARY, "metric": "roc_auc", "n_test": 80, "n_train": len(frame) - 80,
                          "leaderboard": board, "predictions_sha256": workbench.store.put_bytes(buffer.getvalue()),
                          "final": {"kind": "single", "test_score": board[0]["test_score"],
                                    "oof_score": _score(score, "train")}}
        run_id = stored.id
    return run_id, evaluate_model(model_id=board[0]["model_id"], label="linear", predictions=score, summary=SUMMARY,
                                  prepared_frame=frame, options=EvalOptions(n_resamples=0))


@pytest.fixture
def run(workbench, admin, make_user, datasets_dir):
    """:func:`store_run` in a new project; a collaborator with the metrics and the paper pack shared."""
    from workbench.services import accounts, projects, results

    project_id = projects.create_project(workbench, admin, name="Cleveland grades")
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)  # now the project's owner
    signed = make_user("grade_guest")
    projects.add_member(workbench, owner, project_id=project_id, username="grade_guest", role="collaborator")
    guest = accounts.resolve_session(workbench, signed.token)
    results.set_sharing(workbench, owner, project_id=project_id, facets=["metrics", "paper_pack"])
    run_id, evaluation = store_run(workbench, project_id, datasets_dir)
    return workbench, owner, guest, run_id, evaluation


def hidden_and_drawn(evaluation) -> tuple[int, float, list[float]]:
    """(K, the hidden grades' AUROC sum, the drawn grades' AUROCs: what the collaborator's curves show)."""
    full = evaluation.main.multiclass_curves
    curves = reader_evaluation(evaluation, limit=LIMIT).main.multiclass_curves
    assert set(curves.suppressed) == {"3", "4"}  # the case on real data
    hidden = sum(c.auroc.value for c in full.roc if c.label in curves.suppressed)
    return len(full.classes), hidden, [c.auroc.value for c in curves.roc]


def pack_leaderboard(view, evaluation) -> dict:
    """The paper pack's reproduce/settings.json from the run as the reader reaches it (export.paper_pack)."""
    return reproduce_settings(PackInput(evaluations=(evaluation,), summary=view.summary, settings=view.settings,
                                        recipe={}, params={}, title="Cleveland", source="test", safe=True))


def test_the_collaborators_holdout_score_gives_no_hidden_grade_back(run):
    from workbench.services import results, training

    workbench, owner, guest, run_id, evaluation = run
    k, hidden, drawn = hidden_and_drawn(evaluation)
    every = evaluation.main.metrics.macro_auroc.value
    mine = results.compare_runs(workbench, owner, [run_id])[0]
    assert mine.rows[0].test_score == pytest.approx(every, abs=1e-12)  # the run's score is the macro over all
    assert abs(k * mine.rows[0].test_score - sum(drawn) - hidden) < 1e-9  # what it gave a reader before
    seen = results.compare_runs(workbench, guest, [run_id])[0]
    shown = float(f"{seen.rows[0].test_score:.3f}")  # Runs side by side: 3 decimals
    assert abs(k * shown - sum(drawn) - hidden) > 0.01, (shown, hidden)
    assert shown == float(f"{np.mean(drawn):.3f}")  # the drawn grades' macro, as the leaderboard gives it
    assert seen.rows[0].test_score == pytest.approx(
        reader_evaluation(evaluation, limit=LIMIT).main.metrics.macro_auroc.value, abs=1e-12)
    assert seen.rows[1].test_score != mine.rows[1].test_score  # every model of the run
    overview = {o.run_id: o for o in results.project_runs(workbench, guest, seen.project_id)}[run_id]
    assert overview.best_test == seen.rows[0].test_score
    assert {o.run_id: o for o in results.project_runs(workbench, owner, seen.project_id)}[run_id].best_test == mine.rows[0].test_score

    with pytest.raises(PermissionDenied):  # the Train page's run (the recorded scores as they are): not theirs
        training.get_run(workbench, guest, run_id)

    pack = pack_leaderboard(seen, evaluation)
    for score in (pack["leaderboard"][0]["test_score"], pack["run"]["final"]["test_score"]):
        assert abs(k * score - sum(drawn) - hidden) > 0.01
        assert score == seen.rows[0].test_score
    assert pack["run"]["score_classes"] == "drawn"
    assert pack["run"]["final"]["oof_score"] == mine.summary["final"]["oof_score"]  # no grade hidden in training
    owners = pack_leaderboard(mine, evaluation)
    assert owners["leaderboard"][0]["test_score"] == mine.rows[0].test_score and "score_classes" not in owners["run"]
    assert [m["test_score"] for m in owners["leaderboard"]] == [r.test_score for r in mine.rows]
