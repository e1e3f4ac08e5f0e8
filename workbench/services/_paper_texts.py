"""The texts of a paper pack: the drafted methods paragraph, the model card and the settings
needed to reproduce the run. Every number comes from the same evaluation the tables show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipelines import figures as fg
from pipelines.errors import RecipeError
from pipelines.recipe import Recipe
from workbench.i18n import catalogue, named, t
from workbench.services._model_names import model_name
from workbench.services._measure_disclosure import AT_THRESHOLD, measure_suppressed_label, part_measures_shown
from workbench.services._paper_tables import SMALL_COUNT, suppress
from workbench.services._table_disclosure import part_counts
from workbench.services.review import describe_step

if TYPE_CHECKING:
    from workbench.services._paper import PackInput

__all__ = ["methods_text", "model_card", "reproduce_settings", "holdout_tuning", "tuning_text", "task_name", "rule_name",
           "pack_models", "read_pack_models"]


def holdout_tuning(pack: PackInput) -> dict[str, Any] | None:
    """How a run trained through the Dask path was tuned (one validation part of the development
    set instead of k folds, as its settings record); None for k-fold cross-validation."""
    info = (pack.settings or {}).get("distributed") or {}
    return dict(info) if info.get("validation") == "holdout" else None


def tuning_text(pack: PackInput, prefix: str) -> str:
    """``<prefix>tuning_cv`` or ``<prefix>tuning_holdout``, filled with the run's folds and part."""
    holdout, s = holdout_tuning(pack), pack.summary
    if holdout is None:
        return t(prefix + "tuning_cv", pack.lang, folds=(pack.recipe.get("split") or {}).get("n_folds", s.get("n_folds", "")))
    return t(prefix + "tuning_holdout", pack.lang, fold=holdout.get("validation_fold", ""),
             folds=holdout.get("n_folds", ""), rows=holdout.get("validation_rows", ""))


def _est(metrics: Any, name: str, *, shown: bool = True, lang: str = "en") -> str:
    est = metrics.estimates().get(name)
    if not shown and name in AT_THRESHOLD:  # it would give a small confusion cell away (collaborator copy)
        return measure_suppressed_label(lang)
    return est.format(2, lang=lang) if est is not None else "NA"


def _part_n(pack: PackInput, part: str) -> Any:
    """A part's patients as the tables print them ("<5", or x when it would give a small count away)."""
    counts = part_counts(pack.evaluations[0], limit=SMALL_COUNT if pack.safe else 0)
    if part in counts:
        return counts[part][0]
    value = pack.summary.get(f"n_{part}", "")
    return suppress(int(value), pack.safe) if value != "" else value


def _step_code(step: Mapping[str, Any]) -> str:
    """A stored step as its code and parameters (what an unknown or no longer valid step falls back to)."""
    parts = []
    for key, value in step.items():
        if key in ("kind", "enabled") or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        parts.append(f"{key} = {value}")
    return f"{step.get('kind')}" + (f" ({'; '.join(parts)})" if parts else "")


def _describe_step(step: Mapping[str, Any], lang: str) -> str:
    """A recipe step in words, as the Review page lists it ("Fill missing values in all columns: numbers by
    the median, ..."), not as its code (``impute (numeric = median; ...)``)."""
    try:
        parsed = Recipe.from_dict({"steps": [dict(step)]}).steps[0]
    except RecipeError:
        return _step_code(step)
    return describe_step(parsed, lang)


def task_name(task: Any, lang: str) -> str:
    """``binary`` -> "binary classification", as a journal names the task."""
    return named("export.task.", task, lang)


def rule_name(options: Any, lang: str) -> str:
    """How the operating threshold was chosen, in words ("Youden index", "fixed sensitivity (0.9)")."""
    key = "export.rule." + str(options.threshold_rule)
    target = options.threshold_target if options.threshold_target is not None else ""
    return t(key, lang, target=target) if key in catalogue("en") else str(options.threshold_rule)


def _split_words(split: Mapping[str, Any], summary: Mapping[str, Any], lang: str) -> str:
    """How the data were divided, in words ("at random, stratified by the outcome")."""
    kind = str(split.get("kind", summary.get("split", "")))
    if kind == "stratified_kfold" and summary.get("task") == "regression":  # no classes to stratify by
        kind = "random"
    key = "export.methods.split_" + kind
    return t(key, lang, column=split.get("time_column") or "") if key in catalogue("en") else kind


def _calibration_words(final: Mapping[str, Any], lang: str) -> str:
    """How the final model's probabilities were calibrated, as a sentence; nothing for a regression."""
    key = "export.methods.calibration_" + str(final.get("calibration", "none"))
    if key not in catalogue("en"):  # "not applicable" (regression)
        return ""
    compared = len(final.get("calibration_scores") or {}) > 1
    return t(key, lang) + (" " + t("export.methods.calibration_compared", lang) if compared else "")


def methods_text(pack: PackInput) -> str:
    """A drafted methods paragraph: data, preprocessing, models, tuning, validation, metrics, software."""
    s, lang = pack.summary, pack.lang
    first = pack.evaluations[0]
    steps = [st for st in pack.recipe.get("steps", []) if st.get("enabled", True)]
    data_steps = [_describe_step(st, lang) for st in steps if st.get("kind") in _DATA_KINDS]
    model_steps = [_describe_step(st, lang) for st in steps if st.get("kind") not in _DATA_KINDS]
    split = pack.recipe.get("split", {})
    n_events = ""
    if first.task == "binary":
        main = first.main.metrics
        total, events = part_counts(first, limit=SMALL_COUNT if pack.safe else 0)[first.main.part]
        if isinstance(total, int) and isinstance(events, int):
            n_events = t("export.methods.events", lang, n=events, total=total,
                         percent=f"{100 * main.n_positive / max(main.n, 1):.1f}")
        else:  # a hidden count: the sentence without its share, which would give the count away
            n_events = t("export.methods.events_hidden", lang, n=events, total=total)
    families = sorted({str(m.get("family")) for m in s.get("leaderboard", []) if m.get("family") != "ensemble"})
    libraries = ", ".join(f"{k} {v}" for k, v in sorted((s.get("libraries") or {}).items()))
    trials = s.get("n_trials", s.get("trials"))
    n_trials = len(trials) if isinstance(trials, list) else trials
    o = first.options
    holdout = holdout_tuning(pack) is not None  # the Dask path: one validation part, not k folds
    how = "holdout" if holdout else "cv"
    rule_key, source_key = "export.methods.threshold_" + o.threshold_rule, "export.methods.source_" + first.threshold_source
    if holdout and first.threshold_source == "train":
        source_key += "_holdout"
    threshold = t(rule_key, lang, target=o.threshold_target if o.threshold_target is not None else "",
                  source=t(source_key, lang))
    paragraphs = [
        t("export.methods.data", lang, n=int(s.get("n_train", 0)) + int(s.get("n_test", 0)), rows_in=s.get("rows_in", ""),
          target=s.get("target", ""), positive=s.get("positive_label", ""), predictors=len(s.get("features", [])),
          events=n_events, task=task_name(s.get("task", ""), lang)),
        t("export.methods.preprocessing", lang,
          version=pack.recipe_version if pack.recipe_version is not None else t("export.methods.recipe_suggested", lang),
          sha=str(s.get("recipe_sha256", ""))[:12],
          data_steps="; ".join(data_steps) or t("export.methods.none", lang),
          model_steps="; ".join(model_steps) or t("export.methods.none", lang)),
        t("export.methods.models", lang, families=", ".join(model_name(f, lang) for f in families), trials=n_trials or "",
          metric=named("figures.metric.", s.get("metric", ""), lang), seed=s.get("seed", ""),
          device=named("results.device.", s.get("device", "cpu"), lang),
          scored=t(f"export.methods.scored_{how}", lang), chosen=t(f"export.methods.chosen_{how}", lang),
          final=model_name(str((s.get("final") or {}).get("kind", first.label)), lang),
          calibration=_calibration_words(s.get("final") or {}, lang)),
        t("export.methods.validation", lang, split=_split_words(split, s, lang),
          tuning=tuning_text(pack, "export.methods."), test_percent=f"{100 * float(split.get('test_fraction', 0.2)):.0f}",
          n_train=_part_n(pack, "train"), n_test=_part_n(pack, "test"),
          grouped=t("export.methods.grouped", lang, column=s["group_column"]) if s.get("group_column") else ""),
        t("export.methods.metrics", lang, resamples=o.n_resamples, seed=o.seed, threshold=threshold),
        t("export.methods.software", lang, libraries=libraries),
    ]
    if first.task == "binary":
        m = first.main.metrics
        shown = part_measures_shown(first, limit=SMALL_COUNT if pack.safe else 0)[first.main.part]
        paragraphs.append(t("export.methods.results", lang, model=first.label, part=t(f"export.part.{first.main.part}", lang),
                            auroc=_est(m, "auroc", lang=lang), auprc=_est(m, "auprc", lang=lang),
                            brier=_est(m, "brier", lang=lang), slope=_est(m, "calibration_slope", lang=lang),
                            sensitivity=_est(m, "sensitivity", shown=shown, lang=lang),
                            specificity=_est(m, "specificity", shown=shown, lang=lang), threshold=f"{m.threshold.value:.3f}"))
    title = t("export.methods.title", lang)
    return f"# {title}\n\n" + "\n\n".join(p.strip() for p in paragraphs if p.strip()) + "\n\n" + \
        t("export.methods.draft_note", lang) + "\n"


_DATA_KINDS = frozenset({"outcome", "filter_rows", "drop_columns", "derive_column", "recode_categories",
                         "merge_categories", "order_categories", "convert_units", "plausible_range", "edit_cell",
                         "rename_column", "aggregate_time_series"})

# TRIPOD+AI (Collins et al., BMJ 2024;385:e078378): 27 items, some with sub-items. ``auto`` names


def model_card(pack: PackInput) -> str:
    lang, s, first = pack.lang, pack.summary, pack.evaluations[0]
    lines = [f"# {t('export.card.title', lang, model=first.label)}", "",
             f"- {t('export.card.source', lang)}: {pack.source}",
             f"- {t('export.card.task', lang)}: {task_name(s.get('task'), lang)} · {t('export.card.outcome', lang)}: {s.get('target')}"
             + (f" = {s.get('positive_label')}" if s.get("task") == "binary" else ""),
             f"- {t('export.card.predictors', lang)}: {', '.join(map(str, s.get('features', [])))}",
             f"- {t('export.card.data', lang)}: n = {suppress(int(s.get('n_train', 0)), pack.safe)} "
             f"({t('export.part.train', lang)}), {suppress(int(s.get('n_test', 0)), pack.safe)} ({t('export.part.test', lang)})",
             f"- {t('export.card.training', lang)}: {named('figures.metric.', s.get('metric'), lang)} · seed {s.get('seed')} · "
             f"{named('results.device.', s.get('device', 'cpu'), lang)}",
             f"- {t('export.card.threshold', lang)}: {rule_name(first.options, lang)}"
             + (f" = {first.main.metrics.threshold.value:.3f}" if first.task == "binary" else ""), "",
             f"## {t('export.card.performance', lang)}", ""]
    limit = SMALL_COUNT if pack.safe else 0
    counts, shown = part_counts(first, limit=limit), part_measures_shown(first, limit=limit)
    for part in first.parts:
        n = counts[part.part][0] if part.part in counts else suppress(part.n, pack.safe)
        lines.append(f"### {t(f'export.part.{part.part}', lang)} (n = {n})")
        for name in part.metrics.estimates():
            value = _est(part.metrics, name, shown=shown[part.part], lang=lang)
            lines.append(f"- {fg.load_labels(lang).get(f'figures.metric.{name}', name)}: {value}")
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


def pack_models(pack: PackInput) -> list[dict[str, Any]]:
    """The pack's models for MANIFEST.json and reproduce/settings.json, the reported one first: the
    family code (stable for scripts, as the leaderboard entries keep it) and the name readers see."""
    families = list(pack.families)
    if len(families) != len(pack.evaluations):  # a caller without codes: the leaderboard's, by model id
        board = {m.get("model_id"): m.get("family") for m in pack.summary.get("leaderboard", [])}
        families = [board.get(e.model_id) for e in pack.evaluations]
    return [{"family": family, "name": e.label} for family, e in zip(families, pack.evaluations)]


def read_pack_models(entries: Any) -> list[dict[str, Any]]:
    """``models`` of a pack's MANIFEST.json or ``evaluation.models`` of its settings, in today's form
    (``{"family", "name"}``) whichever pack wrote it: packs made before family codes were added list
    names only (``["XGBoost", ...]``), which read as ``{"family": None, "name": ...}``."""
    return [dict(item) if isinstance(item, Mapping) else {"family": None, "name": str(item)} for item in entries or []]


def reproduce_settings(pack: PackInput) -> dict[str, Any]:
    s = pack.summary
    keys = ("task", "target", "positive_label", "classes", "metric", "features", "group_column", "n_train", "n_test",
            "n_folds", "split", "seed", "device", "libraries", "dataset_sha256", "recipe_sha256", "dataset_version_id",
            "final", "score_classes")  # score_classes "drawn": a restricted reader's holdout scores (_score_disclosure)
    return {
        "source": pack.source,
        "search_settings": dict(pack.settings),
        "recipe": dict(pack.recipe),
        "recipe_version": pack.recipe_version,
        "run": {k: s.get(k) for k in keys if k in s},
        "leaderboard": [{k: m.get(k) for k in ("model_id", "rank", "name", "family", "params", "cv_mean", "cv_sd",
                                                 "test_score", "device")} for m in s.get("leaderboard", [])],
        "evaluation": {"models": pack_models(pack), **pack.evaluations[0].options.to_dict(),
                       "threshold_chosen_on": pack.evaluations[0].threshold_source},
    }
