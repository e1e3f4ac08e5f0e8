"""Publication export: figures in every format, tables, and the paper pack, each download audited.

Exports draw from stored evaluations only: what is not stored yet is computed by the ``evaluate``
job (:func:`export_evaluation` starts it, or joins the one already computing it), never in the
request; an export asked for before the numbers are stored says so and names the job.

The preview a page shows is :func:`preview_figure`, the very PNG bytes a PNG download at the same
dpi gives. Whoever may not see patient rows here (a collaborator) gets the collaborator-safe
variant automatically: no per-patient figures (SHAP summary and dependence, waterfall), counts
below 5 as "<5", no rows, no model file; asking for a per-patient figure anyway is refused and
audited. Dependence plots and waterfalls show feature values as the analysis table holds them.
Models are named for readers in the export's language (legends, table columns, the model card),
from the codes the stored evaluations keep (``_model_names``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from permissions.actions import Action
from pipelines import figures as fg
from pipelines.errors import EvaluationError, InputError, PermissionDenied
from pipelines.evaluation import Contributions, in_input_units, ranked_features
from pipelines import tables as tb
from pipelines.tables import TABLE_FORMATS
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Project, RecipeVersion, Run
from workbench.i18n import t
from workbench.services import audit, evaluation_job, results, training
from workbench.services._access import authorize
from workbench.services._model_names import named_evaluations, named_params
from workbench.services._paper import MIME, ExportFile, PackInput, build_pack
from workbench.services._paper_figures import (
    FIGURES,
    PATIENT_LEVEL_FIGURES,
    FigureDetail,
    available_figures,
    figure_stem,
    make_figure,
)
from workbench.services._paper_tables import TABLES, available_tables, make_table, table_bytes
from workbench.services._paper_texts import read_pack_models

__all__ = ["ExportFile", "ExportChoice", "FigureDetail", "FigureChoices", "MIME", "figure_name", "table_name", "pack_name",
           "FIGURES", "TABLES", "PATIENT_LEVEL_FIGURES", "export_evaluation", "figure_menu", "figure_choices", "table_menu",
           "preview_figure", "figure_file", "table_view", "table_file", "paper_pack", "read_pack_models"]


@dataclass(frozen=True)
class ExportChoice:
    """How a figure is exported: journal column preset, resolution and label language."""

    preset: str = "single"
    dpi: int = 300
    lang: str = "en"

    def check(self) -> ExportChoice:
        if self.preset not in fg.PRESETS:
            raise InputError("export.bad_option", option="preset", value=self.preset, allowed=", ".join(fg.PRESETS))
        if self.dpi not in fg.DPIS:
            raise InputError("export.bad_option", option="dpi", value=self.dpi, allowed=", ".join(map(str, fg.DPIS)))
        if self.lang not in fg.LANGUAGES:
            raise InputError("export.bad_option", option="lang", value=self.lang, allowed=", ".join(fg.LANGUAGES))
        return self


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60] or "export"


@dataclass(frozen=True)
class FigureChoices:
    """What the per-feature and per-patient figures can show: names and a count, no values."""

    features: tuple[str, ...]  # by mean |SHAP|, most important first
    patients: int  # patients in the evaluated part: the holdout when the run has one
    part: str


def figure_name(run_id: int, figure: str, choice: ExportChoice, fmt: str, detail: FigureDetail | None = None) -> str:
    return f"run{run_id}_{figure_stem(figure, detail)}_{choice.preset}_{choice.dpi}dpi_{choice.lang}.{fmt}"


def table_name(run_id: int, table: str, lang: str, fmt: str) -> str:
    return f"run{run_id}_{table}_{lang}.{fmt}"


def pack_name(workbench: Workbench, run_id: int) -> str:
    """The file name of a run's paper pack (the project name, made safe for any file system)."""
    from workbench.db.models import Run

    with session_scope(workbench.engine) as session:
        run = session.get(Run, run_id)
        project = session.get(Project, run.project_id) if run is not None else None
        name = project.name if project is not None else "project"
    return f"{_slug(name)}_run{run_id}_paper_pack.zip"


def _models(view: results.RunResults, model_ids: Sequence[int] | None) -> list[int]:
    ids = list(model_ids) if model_ids else [view.reported_model_id]
    known = {r.model_id for r in view.rows}
    for model_id in ids:
        if model_id not in known:
            raise InputError("results.model_not_in_run", model_id=model_id, run_id=view.run_id)
    return ids


_PART = {"figures": Action.RESULTS_VIEW, "tables": Action.TABLES_DOWNLOAD, "paper_pack": Action.PAPER_PACK_DOWNLOAD}


def _options(workbench: Workbench, view: results.RunResults, options: results.EvalOptions | None) -> results.EvalOptions:
    """None: what the evaluate job computed after training (the results page's opening options)."""
    return options or results.run_default_options(workbench, view.summary)


def export_evaluation(workbench: Workbench, actor, *, run_id: int, model_ids: Sequence[int] | None = None,
                      options: results.EvalOptions | None = None, part: str = "figures",
                      again: bool = False) -> evaluation_job.EvaluationStatus:
    """The stored evaluations an export of these models needs, and the ``evaluate`` job computing
    the missing ones: started here when none is queued or running (joined when one is), not started
    again after a job failed or was cancelled unless ``again``. Nothing is computed in this call."""
    view = _view(workbench, actor, run_id, part)
    ids, chosen = _models(view, model_ids), _options(workbench, view, options)
    kwargs = dict(run_id=run_id, options=chosen, model_ids=ids, action=_PART[part], part=part)
    status = evaluation_job.evaluation_status(workbench, actor, **kwargs)
    if status.pending and not status.running and (again or status.state not in ("failed", "cancelled")):
        evaluation_job.request_evaluation(workbench, actor, **kwargs)
        status = evaluation_job.evaluation_status(workbench, actor, **kwargs)
    return status


def _evaluations(workbench: Workbench, actor, view: results.RunResults, model_ids: Sequence[int] | None,
                 options: results.EvalOptions | None, part: str = "figures"):
    """The stored evaluations, in the order asked for. A missing one is left to the evaluate job
    (started or joined here) and the export is refused until it is stored."""
    ids, chosen = _models(view, model_ids), _options(workbench, view, options)
    kwargs = dict(run_id=view.run_id, options=chosen, model_ids=ids, action=_PART[part], part=part)
    stored = results.stored_evaluations(workbench, actor, **kwargs)
    if len(stored) < len(ids):
        job_id = evaluation_job.request_evaluation(workbench, actor, **kwargs)
        stored = results.stored_evaluations(workbench, actor, **kwargs)  # an inline queue has run it already
        if len(stored) < len(ids):
            raise EvaluationError("export.evaluation_pending", job=job_id or "", done=len(stored), total=len(ids))
    return [stored[m] for m in ids]


def _view(workbench: Workbench, actor, run_id: int, part: str) -> results.RunResults:
    return results.run_results(workbench, actor, run_id, action=_PART[part], part=part)


def _contributions(workbench: Workbench, actor, view: results.RunResults, evaluation, options, safe: bool, *,
                   in_units: bool = False) -> Contributions | None:
    """Per-patient SHAP values of the evaluated part (never for a collaborator); ``in_units``: with
    the feature values of the analysis table instead of the learner's scaled ones."""
    if safe:
        return None
    found = results.patient_contributions(workbench, actor, run_id=view.run_id, model_id=evaluation.model_id,
                                          options=_options(workbench, view, options))
    if found is None or not in_units:
        return found
    predictions = training.load_run_predictions(workbench, actor, view.run_id)
    chosen = (predictions["model_id"] == evaluation.model_id) & (predictions["part"] == evaluation.main.part)
    with session_scope(workbench.engine) as session:
        run = session.get(Run, view.run_id)
        session.expunge(run)
    frame: pd.DataFrame | None = results.prepared_frame(workbench, run)
    if frame is None:
        return found
    # the rows in the order the SHAP values were computed in; in_input_units checks that they agree
    return in_input_units(found, frame.iloc[predictions.loc[chosen, "row"].to_numpy()])


def _refuse_patient_level(workbench: Workbench, actor, project_id: int, figure: str) -> None:
    """A per-patient figure for someone who may not see patients: the denial is audited, and the
    message says why and what to choose instead."""
    try:
        authorize(workbench, actor, Action.RESULTS_VIEW_PREDICTIONS, project_id=project_id)
    except PermissionDenied as denied:
        raise InputError("export.patient_level_figure", figure=figure) from denied
    raise InputError("export.patient_level_figure", figure=figure)  # restricted by the role table all the same


def figure_menu(workbench: Workbench, actor, *, run_id: int, model_ids: Sequence[int] | None = None,
                options: results.EvalOptions | None = None) -> tuple[str, ...]:
    """The figures this person can export for these models."""
    view = _view(workbench, actor, run_id, "figures")
    safe = results.is_restricted(actor, view.project_id)
    evaluations = _evaluations(workbench, actor, view, model_ids, options)
    has_shap = not safe and _contributions(workbench, actor, view, evaluations[0], options, safe) is not None
    return available_figures(evaluations, safe=safe, has_contributions=has_shap)


def figure_choices(workbench: Workbench, actor, *, run_id: int, model_ids: Sequence[int] | None = None,
                   options: results.EvalOptions | None = None) -> FigureChoices | None:
    """The features a dependence plot and the patients a waterfall can show (for someone who may
    see patients); None when the model has no SHAP values."""
    view = _view(workbench, actor, run_id, "figures")
    evaluation = _evaluations(workbench, actor, view, model_ids, options)[0]
    found = results.patient_contributions(workbench, actor, run_id=run_id, model_id=evaluation.model_id,
                                          options=_options(workbench, view, options))
    if found is None:
        return None
    return FigureChoices(ranked_features(found), int(found.values.shape[0]), evaluation.main.part)


def table_menu(workbench: Workbench, actor, *, run_id: int, model_ids: Sequence[int] | None = None,
               options: results.EvalOptions | None = None) -> tuple[str, ...]:
    view = _view(workbench, actor, run_id, "tables")
    return available_tables(_evaluations(workbench, actor, view, model_ids, options, "tables"))


def _figure(workbench: Workbench, actor, *, run_id: int, figure: str, model_ids, choice: ExportChoice, options,
            detail: FigureDetail | None = None, part: str = "figures"):
    choice.check()
    view = _view(workbench, actor, run_id, part)
    safe = results.is_restricted(actor, view.project_id)
    if safe and figure in PATIENT_LEVEL_FIGURES:
        _refuse_patient_level(workbench, actor, view.project_id, figure)
    evaluations = named_evaluations(_evaluations(workbench, actor, view, model_ids, options, part), choice.lang)
    contributions = _contributions(workbench, actor, view, evaluations[0], options, safe,
                                   in_units=figure != "shap_summary") if figure in PATIENT_LEVEL_FIGURES else None
    return view, make_figure(figure, evaluations, summary=view.summary, preset=choice.preset, lang=choice.lang, safe=safe,
                             contributions=contributions, detail=detail)


def preview_figure(workbench: Workbench, actor, *, run_id: int, figure: str, model_ids: Sequence[int] | None = None,
                   choice: ExportChoice = ExportChoice(), options: results.EvalOptions | None = None,
                   detail: FigureDetail | None = None) -> bytes:
    """The PNG the page shows: byte for byte what a PNG download at this dpi contains."""
    _, fig = _figure(workbench, actor, run_id=run_id, figure=figure, model_ids=model_ids, choice=choice, options=options,
                     detail=detail)
    try:
        return fg.render(fig, fmt="png", dpi=choice.dpi)
    finally:
        plt.close(fig)


def _record(workbench: Workbench, actor, *, action: str, project_id: int, run_id: int, details: dict) -> None:
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action=action,
                     outcome="succeeded", resource_type="run", resource_id=run_id, project_id=project_id,
                     details=details)


def figure_file(workbench: Workbench, actor, *, run_id: int, figure: str, fmt: str,
                model_ids: Sequence[int] | None = None, choice: ExportChoice = ExportChoice(),
                options: results.EvalOptions | None = None, detail: FigureDetail | None = None) -> ExportFile:
    """A figure file for download (audited as ``figures.download``, with the feature or the
    position of the patient a per-patient figure shows)."""
    view = _view(workbench, actor, run_id, "figures")
    results.authorize_part(workbench, actor, Action.FIGURES_DOWNLOAD, view.project_id, "figures")
    if fmt not in fg.FORMATS:
        raise InputError("export.bad_option", option="format", value=fmt, allowed=", ".join(fg.FORMATS))
    _, fig = _figure(workbench, actor, run_id=run_id, figure=figure, model_ids=model_ids, choice=choice, options=options,
                     detail=detail)
    try:
        data = fg.render(fig, fmt=fmt, dpi=choice.dpi)
    finally:
        plt.close(fig)
    _record(workbench, actor, action="figures.download", project_id=view.project_id, run_id=run_id,
            details={"figure": figure, "format": fmt, "dpi": choice.dpi, "preset": choice.preset, "lang": choice.lang,
                     "models": list(model_ids or [view.reported_model_id]),
                     **({k: v for k, v in vars(detail).items() if v is not None} if detail else {})})
    return ExportFile(figure_name(run_id, figure, choice, fmt, detail), MIME[fmt], data)


def _table(workbench: Workbench, actor, *, run_id: int, table: str, model_ids: Sequence[int] | None, lang: str,
           options: results.EvalOptions | None) -> tuple[results.RunResults, tb.Table, bool]:
    view = _view(workbench, actor, run_id, "tables")
    ExportChoice(lang=lang).check()
    safe = results.is_restricted(actor, view.project_id)
    evaluations = named_evaluations(_evaluations(workbench, actor, view, model_ids, options, "tables"), lang)
    built = make_table(table, evaluations, params=named_params({r.model_id: r.params for r in view.rows}, lang),
                       lang=lang, safe=safe)
    return view, built, safe


def table_view(workbench: Workbench, actor, *, run_id: int, table: str, model_ids: Sequence[int] | None = None,
               lang: str = "en", options: results.EvalOptions | None = None) -> tb.Table:
    """The table as the results page shows it: cell for cell what a download of it contains (counts
    and the measures that would give them away suppressed for a restricted reader). A view, not a
    download: not audited, as the leaderboard is not."""
    return _table(workbench, actor, run_id=run_id, table=table, model_ids=model_ids, lang=lang, options=options)[1]


def table_file(workbench: Workbench, actor, *, run_id: int, table: str, fmt: str, model_ids: Sequence[int] | None = None,
               lang: str = "en", options: results.EvalOptions | None = None) -> ExportFile:
    """A table file for download (audited as ``tables.download``); counts < 5 suppressed when restricted."""
    if fmt not in TABLE_FORMATS:
        raise InputError("export.bad_table_format", value=fmt, allowed=", ".join(TABLE_FORMATS))
    view, built, safe = _table(workbench, actor, run_id=run_id, table=table, model_ids=model_ids, lang=lang,
                               options=options)
    data = table_bytes(built, fmt)
    _record(workbench, actor, action="tables.download", project_id=view.project_id, run_id=run_id,
            details={"table": table, "format": fmt, "lang": lang, "suppressed": safe})
    return ExportFile(table_name(run_id, table, lang, fmt), MIME[fmt], data)


def paper_pack(workbench: Workbench, actor, *, run_id: int, model_ids: Sequence[int] | None = None,
               choice: ExportChoice = ExportChoice(dpi=600), formats: Sequence[str] = ("pdf", "tiff"),
               options: results.EvalOptions | None = None) -> ExportFile:
    """The paper pack ZIP of a run (audited as ``paper_pack.download``).

    The reported model (chosen, else rank 1) comes first; ``model_ids`` adds models to overlay.
    """
    choice.check()
    view = _view(workbench, actor, run_id, "paper_pack")
    bad = [f for f in formats if f not in fg.FORMATS]
    if bad or not formats:
        raise InputError("export.bad_option", option="format", value=bad[0] if bad else "", allowed=", ".join(fg.FORMATS))
    safe = results.is_restricted(actor, view.project_id)
    ids = [view.reported_model_id] + [m for m in (model_ids or []) if m != view.reported_model_id]
    stored = _evaluations(workbench, actor, view, ids, options, "paper_pack")
    evaluations = tuple(named_evaluations(stored, choice.lang))
    family = {r.model_id: r.family for r in view.rows}
    with session_scope(workbench.engine) as session:
        project = session.get(Project, view.project_id)
        recipe = session.get(RecipeVersion, view.recipe_version_id) if view.recipe_version_id else None
        project_name = project.name if project is not None else str(view.project_id)
        recipe_json, recipe_number = (recipe.recipe_json, recipe.version) if recipe is not None else ("{}", None)
    import json

    pack = PackInput(
        evaluations=evaluations, summary=view.summary, settings=view.settings, recipe=json.loads(recipe_json),
        params=named_params({r.model_id: r.params for r in view.rows}, choice.lang), title=project_name,
        source=t("export.pack.source", choice.lang, project=project_name, run=view.run_id), safe=safe,
        preset=choice.preset, dpi=choice.dpi, lang=choice.lang,
        formats=tuple(formats), contributions=_contributions(workbench, actor, view, evaluations[0], options, safe,
                                                             in_units=True),
        recipe_version=recipe_number, families=tuple(family[e.model_id] for e in stored),
    )
    data = build_pack(pack)
    _record(workbench, actor, action="paper_pack.download", project_id=view.project_id, run_id=run_id,
            details={"models": ids, "variant": "collaborator" if safe else "full", "preset": choice.preset,
                     "dpi": choice.dpi, "lang": choice.lang, "formats": list(formats), "bytes": len(data)})
    return ExportFile(pack_name(workbench, run_id), MIME["zip"], data)
