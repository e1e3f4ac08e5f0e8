"""Figures, tables and texts of a paper, drawn from stored evaluations: the paper pack.

Free of the database and of permissions (the services decide who gets what, and whether the
collaborator-safe variant is built), so ``workbench report`` makes the same pack from a model
folder. Every number in the texts comes from the same evaluation the tables show.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure

from pipelines import figures as fg
from pipelines import tables as tb
from pipelines.errors import InputError
from pipelines.evaluation import BinaryMetrics, Contributions
from workbench.i18n import t
from workbench.services._evaluate import ModelEvaluation

__all__ = ["FIGURES", "PATIENT_LEVEL_FIGURES", "TABLES", "PackInput", "ExportFile", "make_figure", "make_table",
           "methods_text", "tripod_table", "model_card", "reproduce_settings", "build_pack", "MIME"]

#: Every figure the workbench exports, in the order of a results section.
FIGURES = ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "importance",
           "shap_summary", "forest", "cohort_flow")
#: Figures that show individual patients: never in a collaborator's view or pack.
PATIENT_LEVEL_FIGURES = frozenset({"shap_summary"})
TABLES = ("performance", "performance_oof", "table_one", "hyperparameters", "subgroups")
SMALL_COUNT = 5
MIME = {"pdf": "application/pdf", "svg": "image/svg+xml", "eps": "application/postscript", "tiff": "image/tiff",
        "png": "image/png", "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "zip": "application/zip"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportFile:
    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class PackInput:
    """Everything a pack is made of. ``evaluations[0]`` is the model to report."""

    evaluations: tuple[ModelEvaluation, ...]
    summary: Mapping[str, Any]
    settings: Mapping[str, Any]
    recipe: Mapping[str, Any]
    params: Mapping[int, Mapping[str, Any]]  # model id -> hyperparameters
    title: str
    source: str  # "run 12 of project 'Heart failure'" or the model folder
    safe: bool = False
    preset: str = "single"
    dpi: int = 600
    lang: str = "en"
    formats: tuple[str, ...] = ("pdf", "tiff")
    table_formats: tuple[str, ...] = ("docx", "csv")
    contributions: Contributions | None = None
    recipe_version: int | None = None
    extra_files: Mapping[str, bytes] = field(default_factory=dict)


# --------------------------------------------------------------------------- figures


def _binary(evaluations: Sequence[ModelEvaluation], figure: str) -> None:
    if not evaluations or evaluations[0].task != "binary":
        raise InputError("export.figure_needs_binary", figure=figure)


def _flow_steps(summary: Mapping[str, Any], lang: str) -> list[fg.FlowStep]:
    """One box per recipe step that removed patients (with why), starting from the source table."""
    flow = list(summary.get("cohort_flow") or [])
    n0 = int(summary.get("rows_in") or (flow[0]["rows_in"] if flow else summary.get("n_train", 0) + summary.get("n_test", 0)))
    steps: list[fg.FlowStep] = []
    for item in flow:
        removed = int(item["rows_in"]) - int(item["rows_out"])
        if removed <= 0:
            continue
        label = t("export.flow.source", lang) if not steps else t("export.flow.after", lang, step=item["step"])
        reason = item.get("reason") or t("export.flow.step", lang, step=item["step"], kind=item["kind"])
        steps.append(fg.FlowStep(label, int(item["rows_in"]), removed, reason))
    return steps or [fg.FlowStep(t("export.flow.source", lang), n0)]


def make_figure(name: str, evaluations: Sequence[ModelEvaluation], *, summary: Mapping[str, Any], preset: str = "single",
                lang: str = "en", safe: bool = False, contributions: Contributions | None = None) -> Figure:
    """One publication figure; ``evaluations[0]`` is the model a single-model figure shows."""
    if name not in FIGURES:
        raise InputError("export.unknown_figure", figure=name, allowed=", ".join(FIGURES))
    if safe and name in PATIENT_LEVEL_FIGURES:
        raise InputError("export.patient_level_figure", figure=name)
    style = fg.figure_style(preset, lang)
    if not evaluations:
        raise InputError("export.no_models")
    first = evaluations[0]
    if name == "cohort_flow":
        n_analysed = int(summary.get("n_train", 0)) + int(summary.get("n_test", 0))
        return fg.cohort_flow_figure(_flow_steps(summary, lang), style=style,
                                     final_label=t("export.flow.analysed", lang, n_train=summary.get("n_train", 0),
                                                   n_test=summary.get("n_test", 0)) if n_analysed else None,
                                     suppress_below=SMALL_COUNT if safe else 0)
    if name == "importance":
        if first.importance is None:
            raise InputError("export.no_importance")
        return fg.importance_figure(first.importance, style=style)
    if name == "shap_summary":
        if contributions is None:
            raise InputError("export.no_contributions", model=first.label)
        return fg.shap_summary_figure(contributions, style=style)
    _binary(evaluations, name)
    if name == "roc":
        return fg.roc_figure([e.main.roc for e in evaluations], style=style)
    if name == "pr":
        return fg.pr_figure([e.main.pr for e in evaluations], style=style)
    if name == "calibration":
        curves = [e.main.calibration for e in evaluations[:3]]
        if safe:  # the spike histogram counts patients per bin: small bins are suppressed
            curves = [_suppress_histogram(c) for c in curves]
        return fg.calibration_figure(curves, style=style)
    if name == "decision_curve":
        return fg.decision_curve_figure([e.main.decision for e in evaluations], style=style)
    if name == "confusion_matrix":
        metrics: BinaryMetrics = first.main.metrics
        return fg.confusion_matrix_figure(metrics.confusion, style=style, threshold=metrics.threshold.value,
                                          suppress_below=SMALL_COUNT if safe else 0)
    if name == "threshold":
        return fg.threshold_figure(first.main.thresholds, style=style, chosen=first.main.metrics.threshold.value)
    if first.subgroups is None:
        raise InputError("export.no_subgroups")
    return fg.forest_figure(first.subgroups, style=style, suppress_below=SMALL_COUNT if safe else 0)


def _suppress_histogram(curve: Any) -> Any:
    import dataclasses

    import numpy as np

    def clean(counts: Any) -> Any:
        counts = np.asarray(counts).copy()
        counts[(counts > 0) & (counts < SMALL_COUNT)] = 0
        return counts

    return dataclasses.replace(curve, histogram_events=clean(curve.histogram_events),
                               histogram_non_events=clean(curve.histogram_non_events))


def available_figures(evaluations: Sequence[ModelEvaluation], *, safe: bool, has_contributions: bool) -> tuple[str, ...]:
    """The figures that can be drawn for these evaluations (and this audience)."""
    if not evaluations:
        return ()
    first = evaluations[0]
    out = []
    for name in FIGURES:
        if name in PATIENT_LEVEL_FIGURES and (safe or not has_contributions):
            continue
        if name in ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "forest") \
                and first.task != "binary":
            continue
        if name == "importance" and first.importance is None:
            continue
        if name == "forest" and first.subgroups is None:
            continue
        out.append(name)
    return tuple(out)


# --------------------------------------------------------------------------- tables


def make_table(name: str, evaluations: Sequence[ModelEvaluation], *, params: Mapping[int, Mapping[str, Any]],
               lang: str = "en", safe: bool = False) -> tb.Table:
    if name not in TABLES:
        raise InputError("export.unknown_table", table=name, allowed=", ".join(TABLES))
    if not evaluations:
        raise InputError("export.no_models")
    first = evaluations[0]
    limit = SMALL_COUNT if safe else 0
    if name in ("performance", "performance_oof"):
        part = "test" if name == "performance" else "train"
        chosen = {e.label: e.part(part).metrics for e in evaluations if e.part(part) is not None}
        if not chosen:
            raise InputError("export.no_part", part=part)
        table = tb.performance_table(chosen, lang=lang)
        title = t(f"export.table.{name}", lang)
        rows = table.rows
        if limit:  # the event and patient counts at the bottom of a binary table
            rows = tuple(tuple(tb.suppress_count(c, limit) if isinstance(c, int) and not isinstance(c, bool) else c
                               for c in row) for row in rows)
        return tb.Table(title, table.columns, rows, table.notes, name)
    if name == "table_one":
        if first.table_one is None:
            raise InputError("export.no_table_one")
        return tb.table_one_table(first.table_one, suppress_below=limit, lang=lang)
    if name == "hyperparameters":
        return tb.hyperparameter_table({e.label: params.get(e.model_id, {}) for e in evaluations}, lang=lang)
    if first.subgroups is None:
        raise InputError("export.no_subgroups")
    return tb.subgroup_table(first.subgroups, suppress_below=limit, lang=lang)


def available_tables(evaluations: Sequence[ModelEvaluation]) -> tuple[str, ...]:
    if not evaluations:
        return ()
    first = evaluations[0]
    out = ["performance"] if first.part("test") else []
    if first.part("train"):
        out.append("performance_oof")
    if first.table_one is not None:
        out.append("table_one")
    out.append("hyperparameters")
    if first.subgroups is not None:
        out.append("subgroups")
    return tuple(out)


def table_bytes(table: tb.Table, fmt: str) -> bytes:
    if fmt == "csv":
        return tb.to_csv(table)
    if fmt == "xlsx":
        return tb.to_xlsx([table])
    if fmt == "docx":
        return tb.to_docx([table])
    raise InputError("export.bad_table_format", value=fmt, allowed=", ".join(tb.TABLE_FORMATS))


# --------------------------------------------------------------------------- texts


def _est(metrics: Any, name: str) -> str:
    est = metrics.estimates().get(name)
    return est.format(2) if est is not None else "NA"


def _describe_step(step: Mapping[str, Any]) -> str:
    parts = []
    for key, value in step.items():
        if key in ("kind", "enabled") or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        parts.append(f"{key} = {value}")
    return f"{step.get('kind')}" + (f" ({'; '.join(parts)})" if parts else "")


def methods_text(pack: PackInput) -> str:
    """A drafted methods paragraph: data, preprocessing, models, tuning, validation, metrics, software."""
    s, lang = pack.summary, pack.lang
    first = pack.evaluations[0]
    steps = [st for st in pack.recipe.get("steps", []) if st.get("enabled", True)]
    data_steps = [_describe_step(st) for st in steps if st.get("kind") in _DATA_KINDS]
    model_steps = [_describe_step(st) for st in steps if st.get("kind") not in _DATA_KINDS]
    split = pack.recipe.get("split", {})
    n_events = ""
    if first.task == "binary":
        main = first.main.metrics
        n_events = t("export.methods.events", lang, n=main.n_positive, total=main.n,
                     percent=f"{100 * main.n_positive / max(main.n, 1):.1f}")
    families = sorted({str(m.get("family")) for m in s.get("leaderboard", []) if m.get("family") != "ensemble"})
    libraries = ", ".join(f"{k} {v}" for k, v in sorted((s.get("libraries") or {}).items()))
    trials = s.get("n_trials", s.get("trials"))
    n_trials = len(trials) if isinstance(trials, list) else trials
    o = first.options
    rule_key, source_key = "export.methods.threshold_" + o.threshold_rule, "export.methods.source_" + first.threshold_source
    threshold = t(rule_key, lang, target=o.threshold_target if o.threshold_target is not None else "",
                  source=t(source_key, lang))
    paragraphs = [
        t("export.methods.data", lang, n=int(s.get("n_train", 0)) + int(s.get("n_test", 0)), rows_in=s.get("rows_in", ""),
          target=s.get("target", ""), positive=s.get("positive_label", ""), predictors=len(s.get("features", [])),
          events=n_events, task=s.get("task", "")),
        t("export.methods.preprocessing", lang,
          version=pack.recipe_version if pack.recipe_version is not None else t("export.methods.recipe_suggested", lang),
          sha=str(s.get("recipe_sha256", ""))[:12],
          data_steps="; ".join(data_steps) or t("export.methods.none", lang),
          model_steps="; ".join(model_steps) or t("export.methods.none", lang)),
        t("export.methods.models", lang, families=", ".join(families), trials=n_trials or "",
          metric=s.get("metric", ""), seed=s.get("seed", ""), device=s.get("device", "cpu"),
          final=(s.get("final") or {}).get("kind", first.label),
          calibration=(s.get("final") or {}).get("calibration", "none")),
        t("export.methods.validation", lang, split=split.get("kind", s.get("split", "")),
          folds=split.get("n_folds", s.get("n_folds", "")), test_percent=f"{100 * float(split.get('test_fraction', 0.2)):.0f}",
          n_train=s.get("n_train", ""), n_test=s.get("n_test", ""),
          grouped=t("export.methods.grouped", lang, column=s["group_column"]) if s.get("group_column") else ""),
        t("export.methods.metrics", lang, resamples=o.n_resamples, seed=o.seed, threshold=threshold),
        t("export.methods.software", lang, libraries=libraries),
    ]
    if first.task == "binary":
        m = first.main.metrics
        paragraphs.append(t("export.methods.results", lang, model=first.label, part=t(f"export.part.{first.main.part}", lang),
                            auroc=_est(m, "auroc"), auprc=_est(m, "auprc"), brier=_est(m, "brier"),
                            slope=_est(m, "calibration_slope"), sensitivity=_est(m, "sensitivity"),
                            specificity=_est(m, "specificity"), threshold=f"{m.threshold.value:.3f}"))
    title = t("export.methods.title", lang)
    return f"# {title}\n\n" + "\n\n".join(p.strip() for p in paragraphs if p.strip()) + "\n\n" + \
        t("export.methods.draft_note", lang) + "\n"


_DATA_KINDS = frozenset({"outcome", "filter_rows", "drop_columns", "derive_column", "recode_categories",
                         "merge_categories", "order_categories", "convert_units", "plausible_range", "edit_cell",
                         "rename_column", "aggregate_time_series"})

# TRIPOD+AI (Collins et al., BMJ 2024;385:e078378): 27 items, some with sub-items. ``auto`` names
# what the workbench can fill from the run; everything else is marked for the author.
_TRIPOD: tuple[tuple[str, str, str | None], ...] = (
    ("1", "title", None), ("2", "abstract", None),
    ("3a", "context", None), ("3b", "population", None), ("3c", "inequalities", None), ("4", "objectives", None),
    ("5a", "data_source", None), ("5b", "data_dates", None),
    ("6a", "setting", None), ("6b", "eligibility", "eligibility"), ("6c", "treatments", None),
    ("7", "data_preparation", "data_preparation"),
    ("8a", "outcome", "outcome"), ("8b", "outcome_blinding", None), ("8c", "outcome_time", None),
    ("9a", "predictors", "predictors"), ("9b", "predictor_measurement", None), ("9c", "predictor_blinding", None),
    ("10", "sample_size", "sample_size"), ("11", "missing_data", "missing_data"),
    ("12a", "data_use", "data_use"), ("12b", "predictor_handling", "predictor_handling"),
    ("12c", "model_type", "model_type"), ("12d", "heterogeneity", None), ("12e", "performance_measures", "performance_measures"),
    ("12f", "model_updating", None), ("12g", "external_validation", None),
    ("13", "class_imbalance", "class_imbalance"), ("14", "fairness", "fairness"), ("15", "model_output", "model_output"),
    ("16", "training_vs_evaluation", "training_vs_evaluation"), ("17", "ethics", None),
    ("18a", "funding", None), ("18b", "conflicts", None), ("18c", "protocol", None), ("18d", "registration", None),
    ("18e", "data_sharing", None), ("18f", "code_sharing", "code_sharing"), ("19", "patient_involvement", None),
    ("20a", "participant_flow", "participant_flow"), ("20b", "characteristics", "characteristics"),
    ("20c", "development_vs_evaluation_data", None),
    ("21", "participants_events", "participants_events"), ("22", "model_specification", "model_specification"),
    ("23a", "performance", "performance"), ("23b", "subgroup_performance", "subgroup_performance"),
    ("24", "model_updating_results", None), ("25", "interpretation", None), ("26", "limitations", None),
    ("27a", "usability", None), ("27b", "user_requirements", None), ("27c", "future_research", None),
)


def tripod_table(pack: PackInput) -> tb.Table:
    """The TRIPOD+AI checklist: what the workbench could fill, and the rest marked for the author."""
    lang, s, first = pack.lang, pack.summary, pack.evaluations[0]
    n = int(s.get("n_train", 0)) + int(s.get("n_test", 0))
    facts: dict[str, str] = {
        "eligibility": t("export.tripod.fill.eligibility", lang, rows_in=s.get("rows_in", n), n=n),
        "data_preparation": t("export.tripod.fill.data_preparation", lang,
                              version=pack.recipe_version if pack.recipe_version is not None
                              else t("export.methods.recipe_suggested", lang),
                              sha=str(s.get("recipe_sha256", ""))[:12]),
        "outcome": t("export.tripod.fill.outcome", lang, target=s.get("target", ""), positive=s.get("positive_label", "")),
        "predictors": t("export.tripod.fill.predictors", lang, n=len(s.get("features", [])),
                        names=", ".join(map(str, s.get("features", [])))),
        "missing_data": t("export.tripod.fill.missing_data", lang),
        "data_use": t("export.tripod.fill.data_use", lang, n_train=s.get("n_train", ""), n_test=s.get("n_test", ""),
                      folds=s.get("n_folds", "")),
        "predictor_handling": t("export.tripod.fill.predictor_handling", lang),
        "model_type": t("export.tripod.fill.model_type", lang,
                        families=", ".join(sorted({str(m.get("family")) for m in s.get("leaderboard", [])})),
                        metric=s.get("metric", ""), seed=s.get("seed", "")),
        "performance_measures": t("export.tripod.fill.performance_measures", lang, resamples=first.options.n_resamples),
        "class_imbalance": t("export.tripod.fill.class_imbalance", lang),
        "fairness": t("export.tripod.fill.fairness", lang) if first.subgroups is not None else "",
        "model_output": t("export.tripod.fill.model_output", lang, rule=first.options.threshold_rule),
        "training_vs_evaluation": t("export.tripod.fill.training_vs_evaluation", lang),
        "code_sharing": t("export.tripod.fill.code_sharing", lang),
        "participant_flow": t("export.tripod.fill.participant_flow", lang),
        "characteristics": t("export.tripod.fill.characteristics", lang) if first.table_one is not None else "",
        "model_specification": t("export.tripod.fill.model_specification", lang),
        "performance": t("export.tripod.fill.performance", lang),
        "subgroup_performance": t("export.tripod.fill.subgroup_performance", lang) if first.subgroups is not None else "",
    }
    if first.task == "binary":
        m = first.main.metrics
        events = suppress(m.n_positive, pack.safe)
        facts["sample_size"] = t("export.tripod.fill.sample_size", lang, n=suppress(m.n, pack.safe), events=events,
                                 n_train=s.get("n_train", ""), predictors=len(s.get("features", [])))
        facts["participants_events"] = t("export.tripod.fill.participants_events", lang, n=suppress(m.n, pack.safe),
                                         events=events)
    author = t("export.tripod.author", lang)
    filled_mark, author_mark = t("export.tripod.status_filled", lang), t("export.tripod.status_author", lang)
    rows = []
    for item, topic, fact in _TRIPOD:
        text = facts.get(fact or "", "")
        rows.append((item, t(f"export.tripod.topic.{topic}", lang), filled_mark if text else author_mark, text or author))
    columns = (t("export.tripod.item", lang), t("export.tripod.topic", lang), t("export.tripod.status", lang),
               t("export.tripod.text", lang))
    return tb.Table(t("export.tripod.title", lang), columns, tuple(rows), (t("export.tripod.note", lang),),
                    "tripod_ai_checklist")


def suppress(n: int, safe: bool) -> str | int:
    return tb.suppress_count(int(n), SMALL_COUNT if safe else 0)


def model_card(pack: PackInput) -> str:
    lang, s, first = pack.lang, pack.summary, pack.evaluations[0]
    lines = [f"# {t('export.card.title', lang, model=first.label)}", "",
             f"- {t('export.card.source', lang)}: {pack.source}",
             f"- {t('export.card.task', lang)}: {s.get('task')} · {t('export.card.outcome', lang)}: {s.get('target')}"
             + (f" = {s.get('positive_label')}" if s.get("task") == "binary" else ""),
             f"- {t('export.card.predictors', lang)}: {', '.join(map(str, s.get('features', [])))}",
             f"- {t('export.card.data', lang)}: n = {suppress(int(s.get('n_train', 0)), pack.safe)} "
             f"({t('export.part.train', lang)}), {suppress(int(s.get('n_test', 0)), pack.safe)} ({t('export.part.test', lang)})",
             f"- {t('export.card.training', lang)}: {s.get('metric')} · seed {s.get('seed')} · {s.get('device', 'cpu')}",
             f"- {t('export.card.threshold', lang)}: {first.options.threshold_rule}"
             + (f" = {first.main.metrics.threshold.value:.3f}" if first.task == "binary" else ""), "",
             f"## {t('export.card.performance', lang)}", ""]
    for part in first.parts:
        lines.append(f"### {t(f'export.part.{part.part}', lang)} (n = {suppress(part.n, pack.safe)})")
        for name, est in part.metrics.estimates().items():
            lines.append(f"- {fg.load_labels(lang).get(f'figures.metric.{name}', name)}: {est.format(2)}")
        lines.append("")
    if first.shap_importance or first.importance is not None:
        lines += [f"## {t('export.card.important', lang)}", ""]
        ranked = list(first.shap_importance) or sorted(
            zip(first.importance.features, map(float, first.importance.mean)), key=lambda kv: -kv[1])
        lines += [f"{i}. {name} ({value:.3f})" for i, (name, value) in enumerate(ranked[:10], start=1)] + [""]
    lines += [f"## {t('export.card.limits', lang)}", "", t("export.card.limits_text", lang), "",
              f"## {t('export.card.intended', lang)}", "", t("export.tripod.author", lang), ""]
    if pack.safe:
        lines += [t("export.card.safe_note", lang, n=SMALL_COUNT), ""]
    return "\n".join(lines)


def reproduce_settings(pack: PackInput) -> dict[str, Any]:
    s = pack.summary
    keys = ("task", "target", "positive_label", "classes", "metric", "features", "group_column", "n_train", "n_test",
            "n_folds", "split", "seed", "device", "libraries", "dataset_sha256", "recipe_sha256", "dataset_version_id",
            "final")
    return {
        "source": pack.source,
        "search_settings": dict(pack.settings),
        "recipe": dict(pack.recipe),
        "recipe_version": pack.recipe_version,
        "run": {k: s.get(k) for k in keys if k in s},
        "leaderboard": [{k: m.get(k) for k in ("model_id", "rank", "name", "family", "params", "cv_mean", "cv_sd",
                                                 "test_score", "device")} for m in s.get("leaderboard", [])],
        "evaluation": {"models": [e.label for e in pack.evaluations], **pack.evaluations[0].options.to_dict(),
                       "threshold_chosen_on": pack.evaluations[0].threshold_source},
    }


# --------------------------------------------------------------------------- the pack


def _json(value: Any) -> bytes:
    def plain(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if hasattr(v, "item"):
            return v.item()
        return str(v)

    return json.dumps(value, indent=2, ensure_ascii=False, default=plain, sort_keys=True).encode("utf-8")


def build_pack(pack: PackInput, *, on_file: Callable[[str], None] | None = None) -> bytes:
    """The ZIP: figures/, tables/, methods, TRIPOD+AI checklist, model card, reproduce/, MANIFEST."""
    if not pack.evaluations:
        raise InputError("export.no_models")
    files: dict[str, bytes] = {}
    lang = pack.lang
    figure_names = available_figures(pack.evaluations, safe=pack.safe, has_contributions=pack.contributions is not None)
    for name in figure_names:
        models = pack.evaluations if name in ("roc", "pr", "calibration", "decision_curve") else pack.evaluations[:1]
        figure = make_figure(name, models, summary=pack.summary, preset=pack.preset, lang=lang, safe=pack.safe,
                             contributions=pack.contributions)
        for fmt in pack.formats:
            files[f"figures/{name}.{fmt}"] = fg.render(figure, fmt=fmt, dpi=pack.dpi)
        if on_file:
            on_file(name)
        import matplotlib.pyplot as plt

        plt.close(figure)
    tables = [make_table(name, pack.evaluations, params=pack.params, lang=lang, safe=pack.safe)
              for name in available_tables(pack.evaluations)]
    for table in tables:
        for fmt in pack.table_formats:
            files[f"tables/{table.name}.{fmt}"] = table_bytes(table, fmt)
    files["tables/all_tables.xlsx"] = tb.to_xlsx(tables)
    files["methods.md"] = methods_text(pack).encode("utf-8")
    checklist = tripod_table(pack)
    files["tripod_ai_checklist.docx"] = tb.to_docx([checklist])
    files["tripod_ai_checklist.csv"] = tb.to_csv(checklist)
    files["model_card.md"] = model_card(pack).encode("utf-8")
    settings = reproduce_settings(pack)
    files["reproduce/settings.json"] = _json(settings)
    files["reproduce/recipe.json"] = _json(dict(pack.recipe))
    for name, data in pack.extra_files.items():
        files[name] = data
    manifest = {
        "title": pack.title, "source": pack.source, "variant": "collaborator" if pack.safe else "full",
        "language": lang, "preset": pack.preset, "dpi": pack.dpi, "models": [e.label for e in pack.evaluations],
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["MANIFEST.json"] = _json(manifest)
    files["README.txt"] = t("export.pack.readme", lang, title=pack.title, source=pack.source,
                            variant=t("export.pack.variant_safe" if pack.safe else "export.pack.variant_full", lang, n=SMALL_COUNT)
                            ).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()
