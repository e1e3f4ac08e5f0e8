"""The settings part of the Train page: recommended settings with their reasons, and for data
scientists the form and the YAML/JSON box that change them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from pages._run_picker import metric_name
from pages._shell import PageContext, attempt
from permissions.actions import Action
from pipelines.automl import ALL_FAMILIES, METRICS, SearchSettings, default_metric
from pipelines.errors import WorkbenchError
from workbench.i18n import named, t
from workbench.services import training

__all__ = ["show_recommended", "settings_form", "Choice"]


@dataclasses.dataclass(frozen=True)
class Choice:
    """What Start submits: ``settings=None`` means the recommended ones."""

    settings: SearchSettings | None
    overrides_text: str | None
    n_folds: int | None
    distributed: bool = False  # the Dask path below the row threshold (above it, always)


def _notice(ctx: PageContext, notice: Any) -> str:
    params = dict(notice.params)
    if notice.key == "training.recommend_similar":  # where the similar table's run came from, named
        params["source"] = named("train.source.", params.get("source"), ctx.lang)
    return t(notice.key, ctx.lang, **params)


def show_recommended(ctx: PageContext, rec: training.Recommended) -> None:
    s = rec.settings
    st.subheader(ctx.t("train.recommended"))
    budget = []
    if s.time_budget_s:
        budget.append(ctx.t("train.budget_seconds", seconds=int(s.time_budget_s)))
    if s.n_trials:
        budget.append(ctx.t("train.budget_trials", trials=s.n_trials))
    st.markdown(ctx.t("train.recommended_summary", families=", ".join(ctx.t("train.family." + f) for f in s.families),
                      budget=" · ".join(budget), folds=rec.n_folds,
                      metric=metric_name(ctx, s.metric or default_metric(rec.meta.task)),
                      seed=s.seed, first=len(rec.enqueue)))
    st.caption(ctx.t("train.meta", n=rec.meta.n_rows, predictors=rec.meta.n_features,
                     prevalence="-" if rec.meta.prevalence is None else f"{rec.meta.prevalence:.2f}",
                     missing=f"{rec.meta.missing_share:.1%}"))
    for reason in rec.reasons:
        st.markdown(f"- {_notice(ctx, reason)}")
    for notice in rec.device_notices:
        st.info(_notice(ctx, notice), icon=":material/memory:")


def _pins_table(ctx: PageContext) -> pd.DataFrame:
    return pd.DataFrame({"family": pd.Series(dtype="object"), "parameter": pd.Series(dtype="object"),
                         "value": pd.Series(dtype="object"), "high": pd.Series(dtype="object")})


def _number(text: Any) -> Any:
    if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
        return None
    value = yaml.safe_load(str(text))
    return value


def _table_to_overrides(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in table.to_dict("records"):
        family, name = row.get("family"), str(row.get("parameter") or "").strip()
        if not family or not name:
            continue
        low, high = _number(row.get("value")), _number(row.get("high"))
        out.setdefault(str(family), {})[name] = low if high is None else [low, high]
    return out


def _combine(box: str, table: dict[str, dict[str, Any]]) -> str:
    """The box's text with the table's rows added per family (the table wins on the same name).
    A box that does not read as a mapping is passed on as it is, so its own error is shown."""
    if not table:
        return box
    try:
        data = yaml.safe_load(box) if box.strip() else {}
    except yaml.YAMLError:
        return box
    if not isinstance(data, dict):
        return box
    for family, params in table.items():
        current = data.get(family) if isinstance(data.get(family), dict) else {}
        data[family] = {**current, **params}
    return yaml.safe_dump(data, sort_keys=True)


def settings_form(ctx: PageContext, rec: training.Recommended, *, project_id: int) -> Choice | None:
    """For users who may change settings; returns the choice, or None while the input is invalid."""
    may_search = ctx.can(Action.TRAINING_OVERRIDE_SEARCH)
    may_params = ctx.can(Action.TRAINING_OVERRIDE_HYPERPARAMETERS)
    may_advanced = ctx.can(Action.TRAINING_ADVANCED_SETTINGS)
    if not (may_search or may_params or may_advanced):
        return Choice(None, None, None)
    s = rec.settings
    with st.expander(ctx.t("train.change_settings"), icon=":material/tune:"):
        use_own = st.toggle(ctx.t("train.use_own_settings"), key="train_own")
        families, n_trials, seconds, metric, seed, n_folds, device = (s.families, s.n_trials, s.time_budget_s, s.metric,
                                                                       s.seed, rec.n_folds, s.device)
        distributed = False
        left, right = st.columns(2)
        if may_search:
            families = tuple(left.multiselect(ctx.t("train.families"), list(ALL_FAMILIES), default=list(s.families),
                                              format_func=lambda f: ctx.t("train.family." + f), key="train_families",
                                              select_all=ctx.select_all, placeholder=ctx.t("app.choose")))
            allowed = [m for m, spec in METRICS.items() if rec.meta.task in spec.tasks]
            metric = right.selectbox(ctx.t("train.metric"), allowed, index=0, key="train_metric",
                                     format_func=lambda m: metric_name(ctx, m))
            trials_text = left.number_input(ctx.t("train.trials"), min_value=0, value=s.n_trials or 0, step=10,
                                            help=ctx.t("train.trials_help"), key="train_trials")
            n_trials = int(trials_text) or None
            seconds_text = right.number_input(ctx.t("train.seconds"), min_value=0, value=int(s.time_budget_s or 0),
                                              step=30, help=ctx.t("train.seconds_help"), key="train_seconds")
            seconds = float(seconds_text) or None
        if may_advanced:
            seed = int(left.number_input(ctx.t("train.seed"), min_value=0, value=s.seed, step=1, key="train_seed"))
            n_folds = int(right.number_input(ctx.t("train.folds"), min_value=2, max_value=20, value=rec.n_folds,
                                             key="train_folds"))
            devices = ["auto", "cpu", "gpu"]
            device = left.selectbox(ctx.t("train.device"), devices, index=devices.index(s.device)
                                    if s.device in devices else 0, key="train_device")
            distributed = right.toggle(ctx.t("distributed.page_toggle"), key="train_distributed",
                                       help=ctx.t("distributed.page_toggle_help",
                                                  rows=f"{ctx.workbench.settings.dask_train_rows:,}"))
        text = ""
        if may_params:
            st.markdown("**" + ctx.t("train.pins") + "**")
            st.caption(ctx.t("train.pins_help"))
            table = st.data_editor(_pins_table(ctx), num_rows="dynamic", key="train_pins", width="stretch",
                                   column_config={
                                       "family": st.column_config.SelectboxColumn(ctx.t("train.family"),
                                                                                  options=list(ALL_FAMILIES)),
                                       "parameter": st.column_config.TextColumn(ctx.t("train.parameter")),
                                       "value": st.column_config.TextColumn(ctx.t("train.value_or_low")),
                                       "high": st.column_config.TextColumn(ctx.t("train.high")),
                                   })
            box = st.text_area(ctx.t("train.yaml"), key="train_yaml", height=140,
                               placeholder="xgboost:\n  max_depth: [3, 6]\nlightgbm:\n  num_leaves: {low: 8, high: 64}")
            try:
                from_table = _table_to_overrides(table)
            except yaml.YAMLError:
                st.error(ctx.t("train.pins_unreadable"))
                return None
            text = _combine(box or "", from_table)
            if text.strip():
                checked = attempt(ctx.lang, training.check_overrides, ctx.workbench, ctx.actor, project_id=project_id,
                                  text=text)
                if checked is None:
                    return None
                _, notices = checked
                for notice in notices:
                    st.warning(_notice(ctx, notice), icon=":material/info:")
                if not use_own:  # read and checked, but Start would leave them out
                    st.warning(ctx.t("train.overrides_unused", switch=ctx.t("train.use_own_settings")),
                               icon=":material/toggle_off:")
    if not use_own:
        return Choice(None, None, None)
    try:
        chosen = dataclasses.replace(s, families=families, n_trials=n_trials, time_budget_s=seconds, metric=metric,
                                     seed=seed, device=device)
    except WorkbenchError as error:  # the settings' own validation (no family, no budget ...)
        st.error(t(error.key, ctx.lang, **error.params))
        return None
    return Choice(chosen, text or None, n_folds if n_folds != rec.n_folds else None, bool(distributed))
