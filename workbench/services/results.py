"""Results of a run: leaderboard, evaluation of each model (computed once, stored), DeLong
comparisons, the model chosen for the paper, run comparison, and what collaborators may see.

An evaluation is computed once per model and options, by the ``evaluate`` job (started after
training for the default options, and by the results page for new ones; see ``evaluation_job``),
stored as a JSON artifact named in the ``evaluations`` table, and read back from then on: the
dashboard, every export and the paper pack show the same numbers, and nothing is recomputed
behind the user's back.
Collaborators (results-only roles) reach these functions too, for the facets the owner shared;
row-level parts (per-patient SHAP values) need ``results.view_predictions``, which they never hold.
Whoever may not see patient rows gets each evaluation with its calibration bins of 1-4 patients merged
and the one-vs-rest curves of classes of 1-4 patients left out (``_curve_disclosure``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from permissions.actions import Action
from permissions.disclosure import SMALL_COUNT_THRESHOLD
from permissions.policy import Actor, Resource, check
from permissions.roles import FACETS
from pipelines.errors import InputError, NotFound
from pipelines.evaluation import Contributions, DeLongTest, delong_test
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Evaluation, ModelRow, ProjectShare, Run, utcnow
from workbench.services import _codec, audit
from workbench.services._access import authorize
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._evaluate import EvalOptions, ModelEvaluation, Progress
from workbench.services._score_disclosure import reader_scores, replace_test_scores
from workbench.services._evaluation_store import (
    compute,
    options_digest,
    predictions,
    prepared_frame,
    stored_row,
    wait_for_job,
)

__all__ = [
    "EvalOptions", "ModelEvaluation", "LeaderRow", "RunResults", "RunOverview", "shared_facets", "set_sharing",
    "results_resource", "can", "authorize_part", "is_restricted", "run_results", "project_runs", "evaluate", "evaluate_many",
    "patient_contributions", "compare_models", "choose_model", "compare_runs", "default_options", "prepared_frame",
    "stored_evaluations", "suggested_subgroups", "run_default_options", "options_digest",
]


@dataclass(frozen=True)
class LeaderRow:
    model_id: int
    rank: int
    name: str
    family: str
    cv_mean: float | None
    cv_sd: float | None
    test_score: float | None
    metric: str
    params: dict[str, Any]
    device: str
    time_cut: dict[str, list[Any]] | None = None  # {param: [asked, used]} when the time budget shortened it


@dataclass(frozen=True)
class RunResults:
    """One run as the dashboard shows it (no row-level data)."""

    run_id: int
    project_id: int
    created_at: Any
    task: str
    metric: str
    target: str
    chosen_model_id: int | None
    rows: tuple[LeaderRow, ...]
    settings: dict[str, Any]
    trials: tuple[dict[str, Any], ...]  # empty without training.view_trials
    summary: dict[str, Any]
    recipe_version_id: int | None

    @property
    def reported_model_id(self) -> int:
        """The model chosen for the paper, else the final model (rank 1)."""
        return self.chosen_model_id or self.rows[0].model_id

    def label(self, model_id: int) -> str:
        row = next((r for r in self.rows if r.model_id == model_id), None)
        return f"{row.name}" if row is not None else str(model_id)


@dataclass(frozen=True)
class RunOverview:
    """A run reduced to what a side-by-side comparison shows."""

    run_id: int
    created_at: Any
    settings: dict[str, Any]
    best: str
    best_cv: float | None
    best_test: float | None
    metric: str
    n_models: int
    n_trials: int
    seed: Any
    device: str


# --------------------------------------------------------------------------- sharing


def shared_facets(workbench: Workbench, project_id: int) -> frozenset[str]:
    """What the owner currently shares with results-only members (the newest sharing row)."""
    with session_scope(workbench.engine, read_only=True) as session:
        row = session.scalar(select(ProjectShare).where(ProjectShare.project_id == project_id)
                             .order_by(ProjectShare.id.desc()).limit(1))
        return frozenset(row.facets) if row is not None else frozenset()


def set_sharing(workbench: Workbench, actor: Actor, *, project_id: int, facets: Iterable[str]) -> frozenset[str]:
    """Share these facets of the results with collaborators (replaces the previous choice)."""
    authorize(workbench, actor, Action.SHARING_MANAGE, project_id=project_id)
    chosen = frozenset(facets)
    unknown = sorted(chosen - FACETS)
    if unknown:
        raise InputError("results.unknown_facet", facet=unknown[0], allowed=", ".join(sorted(FACETS)))
    before = shared_facets(workbench, project_id)
    with session_scope(workbench.engine) as session:
        session.add(ProjectShare(project_id=project_id, facets=sorted(chosen), changed_by=actor.user_id))
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="sharing.manage",
                     outcome="succeeded", resource_type="project", resource_id=project_id, project_id=project_id,
                     details={"facets": sorted(chosen), "before": sorted(before)})
    return chosen


def results_resource(workbench: Workbench, project_id: int, part: str | None = None) -> Resource:
    return Resource.project(project_id, shared=shared_facets(workbench, project_id), part=part)


def can(workbench: Workbench, actor: Actor, action: Action, *, project_id: int, part: str | None = None) -> bool:
    """For pages: would the service allow this (sharing included)? Decides nothing, audits nothing."""
    return check(actor, action, results_resource(workbench, project_id, part), now=utcnow()).allowed


def is_restricted(actor: Actor, project_id: int) -> bool:
    """True for anyone who may not see patient rows here: they get the collaborator-safe variants."""
    return not check(actor, Action.RESULTS_VIEW_PREDICTIONS, Resource.project(project_id), now=utcnow()).allowed


def authorize_part(workbench: Workbench, actor: Actor, action: Action, project_id: int, part: str | None) -> None:
    authorize(workbench, actor, action, project_id=project_id, resource=results_resource(workbench, project_id, part))


# --------------------------------------------------------------------------- runs


def _run(workbench: Workbench, run_id: int) -> tuple[Run, list[ModelRow]]:
    with session_scope(workbench.engine, read_only=True) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound("results.run_not_found", run_id=run_id)
        models = list(session.scalars(select(ModelRow).where(ModelRow.run_id == run_id).order_by(ModelRow.rank)))
        session.expunge(run)
        for m in models:
            session.expunge(m)
    if not models:
        raise NotFound("results.run_has_no_models", run_id=run_id)
    return run, models


def _rows(run: Run, models: list[ModelRow]) -> tuple[LeaderRow, ...]:
    board = {m.get("model_id"): m for m in (run.summary or {}).get("leaderboard", [])}
    out = []
    for m in models:
        info = board.get(m.id, {})
        metrics = m.metrics or {}
        out.append(LeaderRow(model_id=m.id, rank=m.rank, name=str(info.get("name", m.family)), family=m.family,
                             cv_mean=metrics.get("cv_mean"), cv_sd=metrics.get("cv_sd"),
                             test_score=metrics.get("test_score"), metric=str(metrics.get("metric", "")),
                             params=dict(m.params or {}), device=str(info.get("device", run.device or "")),
                             time_cut=info.get("time_cut") or None))
    return tuple(out)


def run_results(workbench: Workbench, actor: Actor, run_id: int, *, action: Action = Action.RESULTS_VIEW,
                part: str = "metrics") -> RunResults:
    """The run as the dashboard shows it. Exports pass their own action and shared part (a
    collaborator with only the paper pack shared reaches the run through the pack)."""
    run, models = _run(workbench, run_id)
    authorize_part(workbench, actor, action, run.project_id, part)
    see_trials = check(actor, Action.TRAINING_VIEW_TRIALS, Resource.project(run.project_id), now=utcnow()).allowed
    summary = dict(run.summary or {})
    trials = tuple(summary.get("trials", ())) if see_trials else ()
    public = {k: v for k, v in summary.items() if k not in ("trials", "predictions_sha256")}
    public["n_trials"] = len(summary.get("trials") or [])
    rows = _rows(run, models)
    if is_restricted(actor, run.project_id):  # a multiclass macro over hidden classes: the drawn classes'
        changed, public = _reader_scores(workbench, run, public, [m.id for m in models])
        rows = replace_test_scores(rows, changed)
    return RunResults(run_id=run.id, project_id=run.project_id, created_at=run.created_at,
                      task=str(summary.get("task", "")), metric=str(summary.get("metric", "")),
                      target=str(summary.get("target", "")), chosen_model_id=run.chosen_model_id,
                      rows=rows, settings=dict(run.settings or {}), trials=trials, summary=public,
                      recipe_version_id=run.recipe_version_id)


def project_runs(workbench: Workbench, actor: Actor, project_id: int, *, action: Action = Action.RESULTS_VIEW,
                 part: str = "metrics") -> list[RunOverview]:
    """Finished runs of the project, newest first."""
    authorize_part(workbench, actor, action, project_id, part)
    with session_scope(workbench.engine) as session:
        runs = list(session.scalars(select(Run).where(Run.project_id == project_id).order_by(Run.id.desc())))
        for run in runs:
            session.expunge(run)
    restricted = is_restricted(actor, project_id)
    return [_overview(workbench, run, restricted) for run in runs]


def _reader_scores(workbench: Workbench, run: Run, summary: dict[str, Any],
                   model_ids: Sequence[int]) -> tuple[dict[int, float | None], dict[str, Any]]:
    """A restricted reader's holdout and out-of-fold scores (``_score_disclosure``)."""
    return reader_scores(summary, model_ids, lambda model_id: predictions(workbench, run, model_id),
                         limit=SMALL_COUNT_THRESHOLD)


def _overview(workbench: Workbench, run: Run, restricted: bool) -> RunOverview:
    summary = run.summary or {}
    if restricted and (summary.get("leaderboard") or [{}])[0].get("model_id") is not None:  # the best model's holdout score as the reader gets it
        summary = _reader_scores(workbench, run, dict(summary), [summary["leaderboard"][0].get("model_id")])[1]
    board = summary.get("leaderboard") or [{}]
    best = board[0]
    trials = summary.get("trials", [])
    return RunOverview(run_id=run.id, created_at=run.created_at, settings=dict(run.settings or {}),
                       best=str(best.get("name", "")), best_cv=best.get("cv_mean"), best_test=best.get("test_score"),
                       metric=str(summary.get("metric", "")), n_models=len(board),
                       n_trials=len(trials) if isinstance(trials, list) else int(trials or 0), seed=summary.get("seed"),
                       device=str(run.device or ""))


def compare_runs(workbench: Workbench, actor: Actor, run_ids: Sequence[int]) -> list[RunResults]:
    """Several runs of one project side by side (their settings, leaderboards and trials)."""
    if not run_ids:
        raise InputError("results.no_runs_chosen")
    out = [run_results(workbench, actor, rid) for rid in run_ids]
    if len({r.project_id for r in out}) > 1:
        raise InputError("results.runs_of_different_projects")
    return out


def choose_model(workbench: Workbench, actor: Actor, run_id: int, model_id: int) -> None:
    """Record the model to report for this run (the paper pack uses it)."""
    run, models = _run(workbench, run_id)
    authorize(workbench, actor, Action.RESULTS_CHOOSE_MODEL, project_id=run.project_id)
    if model_id not in {m.id for m in models}:
        raise InputError("results.model_not_in_run", model_id=model_id, run_id=run_id)
    with session_scope(workbench.engine) as session:
        row = session.get(Run, run_id)
        before = row.chosen_model_id
        row.chosen_model_id = model_id
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""),
                     action="results.choose_model", outcome="succeeded", resource_type="run", resource_id=run_id,
                     project_id=run.project_id, details={"model_id": model_id, "before": before})


# --------------------------------------------------------------------------- evaluation


def default_options(workbench: Workbench, **changes: Any) -> EvalOptions:
    options = EvalOptions(n_resamples=int(workbench.settings.bootstrap_resamples))
    return EvalOptions(**{**options.to_dict(), **changes, "subgroup_columns": tuple(changes.get("subgroup_columns", ()))})


def suggested_subgroups(features: Sequence[str], task: str) -> tuple[str, ...]:
    """The bias check offered first (by sex and age band), where the run has those columns."""
    return tuple(c for c in ("sex", "age") if c in features) if task == "binary" else ()


def run_default_options(workbench: Workbench, summary: dict[str, Any]) -> EvalOptions:
    """What the results page shows before anyone changes an option: evaluated right after training."""
    features = [str(c) for c in summary.get("features", [])]
    return default_options(workbench, subgroup_columns=suggested_subgroups(features, str(summary.get("task", ""))))


def _evaluation_row(workbench: Workbench, actor: Actor, run: Run, models: list[ModelRow], model_id: int,
                    options: EvalOptions, on_progress: Progress | None = None, wait: bool = True) -> Evaluation:
    model = next((m for m in models if m.id == model_id), None)
    if model is None:
        raise InputError("results.model_not_in_run", model_id=model_id, run_id=run.id)
    digest = options_digest(options)
    row = stored_row(workbench, model_id, digest)
    if row is None and wait:  # an evaluate job is on it: its result, not a second computation beside it
        row = wait_for_job(workbench, run, model_id, digest, timeout=_WAIT_FOR_JOB_SECONDS)
    if row is None:
        label = next(r.name for r in _rows(run, models) if r.model_id == model_id)
        row = compute(workbench, actor, run, model, label, options, digest, on_progress)
    return row


def evaluate(workbench: Workbench, actor: Actor, *, run_id: int, model_id: int, options: EvalOptions | None = None,
             action: Action = Action.RESULTS_VIEW, part: str = "metrics",
             on_progress: Progress | None = None, wait: bool = True) -> ModelEvaluation:
    """The evaluation of one model: read from the store, or computed now and stored (the
    ``evaluate`` job, exports and headless callers; the results page only reads, see
    :func:`stored_evaluations`, and leaves computing to the job). When a job is computing it,
    this waits for the job's result (the job itself passes ``wait=False``)."""
    run, models = _run(workbench, run_id)
    authorize_part(workbench, actor, action, run.project_id, part)
    options = options or default_options(workbench)
    row = _evaluation_row(workbench, actor, run, models, model_id, options, on_progress, wait)
    return _for_reader(actor, run.project_id, _codec.loads(workbench.store.get_bytes(row.result_sha256)))


_WAIT_FOR_JOB_SECONDS = 600.0


def stored_evaluations(workbench: Workbench, actor: Actor, *, run_id: int, options: EvalOptions,
                       model_ids: Sequence[int] | None = None, action: Action = Action.RESULTS_VIEW,
                       part: str = "metrics") -> dict[int, ModelEvaluation]:
    """The evaluations already stored for these options, by model; never computes (a page calls
    this on every rerun). Exports pass their own action and shared part."""
    run, models = _run(workbench, run_id)
    authorize_part(workbench, actor, action, run.project_id, part)
    digest = options_digest(options)
    wanted = [m.id for m in models] if model_ids is None else list(model_ids)
    with session_scope(workbench.engine, read_only=True) as session:
        rows = {row.model_id: row.result_sha256 for row in session.scalars(
            select(Evaluation).where(Evaluation.run_id == run_id, Evaluation.options_sha256 == digest))}
    restricted = is_restricted(actor, run.project_id)
    return {m: _for_reader(actor, run.project_id, _codec.loads(workbench.store.get_bytes(rows[m])), restricted)
            for m in wanted if m in rows}


def _for_reader(actor: Actor, project_id: int, evaluation: ModelEvaluation,
                restricted: bool | None = None) -> ModelEvaluation:
    """The evaluation as this reader may see it: for whoever may not see patient rows, calibration bins of
    1-4 patients merged and the curves of classes of 1-4 patients left out (``_curve_disclosure``)."""
    if restricted is None:
        restricted = is_restricted(actor, project_id)
    return reader_evaluation(evaluation, limit=SMALL_COUNT_THRESHOLD) if restricted else evaluation


def evaluate_many(workbench: Workbench, actor: Actor, *, run_id: int, model_ids: Sequence[int],
                  options: EvalOptions | None = None, action: Action = Action.RESULTS_VIEW,
                  part: str = "metrics") -> list[ModelEvaluation]:
    return [evaluate(workbench, actor, run_id=run_id, model_id=m, options=options, action=action, part=part)
            for m in model_ids]


def patient_contributions(workbench: Workbench, actor: Actor, *, run_id: int, model_id: int,
                          options: EvalOptions | None = None) -> Contributions | None:
    """Per-patient SHAP values (row-level: never for collaborators); None for other model kinds."""
    run, models = _run(workbench, run_id)
    authorize(workbench, actor, Action.RESULTS_VIEW_PREDICTIONS, project_id=run.project_id)
    options = options or default_options(workbench)
    row = _evaluation_row(workbench, actor, run, models, model_id, options)
    if not row.patient_level_sha256:
        return None
    return _codec.loads(workbench.store.get_bytes(row.patient_level_sha256))


def compare_models(workbench: Workbench, actor: Actor, *, run_id: int, model_a: int, model_b: int,
                   part: str = "test") -> DeLongTest:
    """DeLong's test of AUROC(A) = AUROC(B) on the same patients of one part."""
    run, models = _run(workbench, run_id)
    authorize_part(workbench, actor, Action.RESULTS_VIEW, run.project_id, "metrics")
    if (run.summary or {}).get("task") != "binary":
        raise InputError("results.delong_needs_binary")
    if part not in ("test", "train"):
        raise InputError("results.bad_part", value=part)
    ids = {m.id for m in models}
    for model_id in (model_a, model_b):
        if model_id not in ids:
            raise InputError("results.model_not_in_run", model_id=model_id, run_id=run_id)
    a, b = (predictions(workbench, run, m) for m in (model_a, model_b))
    a = a[a["part"] == part].set_index("row").sort_index()
    b = b[b["part"] == part].set_index("row").sort_index()
    common = a.index.intersection(b.index)
    common = common[a.loc[common, "probability"].notna().to_numpy() & b.loc[common, "probability"].notna().to_numpy()]
    if len(common) == 0:
        raise InputError("results.no_common_rows", part=part)
    return delong_test(a.loc[common, "y_true"].to_numpy().astype(int), a.loc[common, "probability"].to_numpy(),
                       b.loc[common, "probability"].to_numpy())
