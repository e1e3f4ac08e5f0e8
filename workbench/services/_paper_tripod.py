"""The TRIPOD+AI checklist of a paper pack: what the workbench can fill from the run, and the
rest marked for the author."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines import tables as tb
from workbench.i18n import named, t
from workbench.services._model_names import model_name
from workbench.services._paper_tables import SMALL_COUNT
from workbench.services._table_disclosure import part_counts
from workbench.services._paper_texts import rule_name, tuning_text

if TYPE_CHECKING:
    from workbench.services._paper import PackInput

__all__ = ["tripod_table"]

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
                      tuning=tuning_text(pack, "export.tripod.fill.")),
        "predictor_handling": t("export.tripod.fill.predictor_handling", lang),
        "model_type": t("export.tripod.fill.model_type", lang,
                        families=", ".join(model_name(f, lang) for f in sorted({str(m.get("family"))
                                                                                 for m in s.get("leaderboard", [])
                                                                                 if m.get("family") != "ensemble"})),
                        metric=named("figures.metric.", s.get("metric", ""), lang), seed=s.get("seed", "")),
        "performance_measures": t("export.tripod.fill.performance_measures", lang, resamples=first.options.n_resamples),
        "class_imbalance": t("export.tripod.fill.class_imbalance", lang),
        "fairness": t("export.tripod.fill.fairness", lang) if first.subgroups is not None else "",
        "model_output": t("export.tripod.fill.model_output", lang, rule=rule_name(first.options, lang)),
        "training_vs_evaluation": t("export.tripod.fill.training_vs_evaluation", lang),
        "code_sharing": t("export.tripod.fill.code_sharing", lang),
        "participant_flow": t("export.tripod.fill.participant_flow", lang),
        "characteristics": t("export.tripod.fill.characteristics", lang) if first.table_one is not None else "",
        "model_specification": t("export.tripod.fill.model_specification", lang),
        "performance": t("export.tripod.fill.performance", lang),
        "subgroup_performance": t("export.tripod.fill.subgroup_performance", lang) if first.subgroups is not None else "",
    }
    if first.task == "binary":
        n, events = part_counts(first, limit=SMALL_COUNT if pack.safe else 0)[first.main.part]  # as the tables print them
        facts["sample_size"] = t("export.tripod.fill.sample_size", lang, n=n, events=events,
                                 n_train=s.get("n_train", ""), predictors=len(s.get("features", [])))
        facts["participants_events"] = t("export.tripod.fill.participants_events", lang, n=n, events=events)
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
