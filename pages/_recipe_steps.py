"""The recipe editor: outcome, suggestion, the step list (switch, move, remove) and a form per step kind."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from pages import _recipe_state as state
from pages._shell import PageContext, attempt
from pipelines.errors import RecipeError
from pipelines.recipe import (
    TIME_SERIES_STATISTICS,
    AggregateTimeSeries,
    ClipOutliers,
    ConvertUnits,
    DefineOutcome,
    DeriveColumn,
    DropColumns,
    Encode,
    FilterRows,
    GroupRareCategories,
    Impute,
    LogTransform,
    MergeCategories,
    ModelStep,
    OrderCategories,
    PlausibleRange,
    Recipe,
    RecodeCategories,
    RenameColumn,
    Scale,
    SplitSpec,
    Step,
)
from workbench.i18n import message
from workbench.services import datasets, review

__all__ = ["outcome_section", "step_list", "add_step_form", "split_form"]

# the kinds offered in "Add a step" (cell edits come from the grid)
ADDABLE = ("filter_rows", "drop_columns", "derive_column", "recode", "merge_categories", "order_categories",
           "rename_column", "convert_units", "plausible_range", "aggregate_timeseries", "impute", "clip_outliers",
           "scale", "log_transform", "encode", "group_rare")


def _typed(text: str) -> Any:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _mapping(ctx: PageContext, text: str) -> tuple[tuple[Any, Any], ...] | None:
    """``1=yes, 0=no`` -> pairs; None (with a message) when a part has no '='."""
    pairs = []
    for part in [p for p in text.replace("\n", ",").split(",") if p.strip()]:
        old, sep, new = part.partition("=")
        if not sep or not old.strip():
            st.error(ctx.t("review.page.mapping_format", part=part.strip()))
            return None
        pairs.append((_typed(old), _typed(new)))
    return tuple(pairs)


def _replace_or_add(recipe: Recipe, step: Step) -> Recipe:
    """Singletons are edited in place: the outcome, and a model step of the same kind and columns
    (changing the imputation replaces the imputation step instead of adding a second one)."""
    for index, existing in enumerate(recipe.steps):
        same_outcome = isinstance(step, DefineOutcome) and isinstance(existing, DefineOutcome)
        same_model = (isinstance(step, ModelStep) and type(existing) is type(step)
                      and existing.columns == step.columns)
        if same_outcome or same_model:
            steps = list(recipe.steps)
            steps[index] = step
            return recipe.with_steps(steps)
    if isinstance(step, DefineOutcome):
        return recipe.with_steps((step, *recipe.steps))
    return recipe.add(step)


def outcome_section(ctx: PageContext, draft: state.Draft, columns: list[str]) -> None:
    st.subheader(ctx.t("review.page.outcome"))
    current = None
    if draft.recipe is not None:
        found = [s for s in draft.recipe.steps if isinstance(s, DefineOutcome)]
        current = found[0] if found else None
    a, b = st.columns([2, 3])
    default = columns.index(current.column) if current is not None and current.column in columns else 0
    column = a.selectbox(ctx.t("review.page.outcome_column"), columns, index=default, key="rv_outcome_col")
    modes = ("as_is", "condition", "mapping")
    mode = b.radio(ctx.t("review.page.outcome_how"), modes, horizontal=True, key="rv_outcome_mode",
                   format_func=lambda m: ctx.t("review.page.outcome_mode." + m))
    step: DefineOutcome | None = DefineOutcome(column=column)
    if mode == "condition":
        text = st.text_input(ctx.t("review.page.outcome_condition"), value=f"{column} > 0", key=f"rv_outcome_cond_{column}",
                             help=ctx.t("review.page.expression_help"))
        step = DefineOutcome(column=column, expression=text)
    elif mode == "mapping":
        text = st.text_input(ctx.t("review.page.outcome_mapping"), key=f"rv_outcome_map_{column}",
                             placeholder="1=yes, 2=yes, 0=no")
        pairs = _mapping(ctx, text)
        step = DefineOutcome(column=column, mapping=pairs) if pairs else None
    use, suggest = st.columns(2)
    if use.button(ctx.t("review.page.use_outcome"), icon=":material/flag:", disabled=step is None,
                  key="rv_use_outcome"):
        if state.propose(ctx, _replace_or_add(draft.recipe or Recipe(), step)):
            st.rerun()
    if suggest.button(ctx.t("review.page.suggest"), icon=":material/auto_fix_high:", type="primary",
                      key="rv_suggest"):
        suggested = attempt(ctx.lang, review.suggest, ctx.workbench, ctx.actor, dataset_version_id=draft.dataset_id,
                            target=column)
        if suggested is not None and step is not None:
            suggested = _replace_or_add(suggested, step)
        if suggested is not None and state.propose(ctx, suggested):
            st.rerun()


def step_list(ctx: PageContext, draft: state.Draft) -> None:
    recipe = draft.recipe
    st.subheader(ctx.t("review.page.steps"))
    if recipe is None or not recipe.steps:
        st.info(ctx.t("review.page.no_steps"))
        return
    st.caption(ctx.t("review.page.steps_caption"))
    for index, step in enumerate(recipe.steps):
        level = ctx.t("review.page.level." + step.level)
        text, right = st.columns([11, 8], vertical_alignment="center")
        # the switch and the three buttons in one row at the right, none clipped at a laptop's 1024 px
        tools = right.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center")
        words = review.describe_step(step, ctx.lang)
        text.markdown(f"**{index + 1}.** {words}  \n:gray[{ctx.t('review.kind.' + step.kind)} · {level}]"
                      if step.enabled else f"**{index + 1}.** ~~{words}~~  \n:gray[{ctx.t('review.page.switched_off')}]")
        enabled = tools.toggle(ctx.t("review.page.on"), value=step.enabled, key=f"rv_on_{index}_{recipe.content_hash()[:8]}")
        change: Recipe | None = None
        if enabled != step.enabled:
            change = recipe.toggle(index, enabled)
        if tools.button("↑", key=f"rv_up_{index}", disabled=index == 0, help=ctx.t("review.page.move_up")):
            change = recipe.move(index, index - 1)
        if tools.button("↓", key=f"rv_down_{index}", disabled=index + 1 == len(recipe.steps),
                        help=ctx.t("review.page.move_down")):
            change = recipe.move(index, index + 1)
        if tools.button("✕", key=f"rv_rm_{index}", help=ctx.t("review.page.remove")):
            change = recipe.remove(index)
        if change is not None and state.propose(ctx, change):
            st.rerun()


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(p) for p in text.replace(";", ",").split(",") if p.strip())


def add_step_form(ctx: PageContext, draft: state.Draft, columns: list[str], categories: dict[str, list[str]],
                  numeric: list[str]) -> None:
    """One form per step kind; the step is added only if the recipe still runs with it."""
    st.subheader(ctx.t("review.page.add_step"))
    kind = st.selectbox(ctx.t("review.page.step_kind"), ADDABLE, format_func=lambda k: ctx.t("review.kind." + k),
                        key="rv_add_kind")
    above = st.container()  # a pick that changes the form's own lists (the time-series table) reruns at once
    with st.form(f"rv_form_{kind}", border=True):
        build = _FORMS[kind](ctx, columns, categories, numeric, **({"above": above} if kind == "aggregate_timeseries" else {}))
        submitted = st.form_submit_button(ctx.t("review.page.add"), icon=":material/add:", type="primary")
    if submitted and draft.recipe is not None:
        try:
            step = build()
            step._check_params()
        except RecipeError as error:
            st.error(message(error, ctx.lang))
            return
        except ValueError:
            st.error(ctx.t("review.page.not_a_number"))
            return
        if step is not None and state.propose(ctx, _replace_or_add(draft.recipe, step)):
            st.rerun()


def _cols_select(ctx, label_key: str, columns: list[str], key: str):
    return st.multiselect(ctx.t(label_key), columns, key=key, select_all=ctx.select_all,
                          placeholder=ctx.t("review.page.all_columns"))


def _form_filter(ctx, columns, categories, numeric):
    expression = st.text_input(ctx.t("review.page.condition"), placeholder="age >= 18 and not isnull(creatinine)",
                               help=ctx.t("review.page.expression_help"), key="rv_f_filter_expr")
    reason = st.text_input(ctx.t("review.page.reason"), key="rv_f_filter_reason")
    return lambda: FilterRows(expression=expression, reason=reason)


def _form_drop(ctx, columns, categories, numeric):
    chosen = st.multiselect(ctx.t("review.page.drop_which"), columns, key="rv_f_drop_cols",
                            select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    note = st.text_input(ctx.t("review.page.why"), key="rv_f_drop_note")
    return lambda: DropColumns(columns=tuple(chosen), note=note)


def _form_derive(ctx, columns, categories, numeric):
    name = st.text_input(ctx.t("review.page.new_name"), placeholder="bmi", key="rv_f_derive_name")
    expression = st.text_input(ctx.t("review.page.formula"), placeholder="weight / (height / 100) ^ 2",
                               help=ctx.t("review.page.expression_help"), key="rv_f_derive_expr")
    replace = st.checkbox(ctx.t("review.page.replace"), key="rv_f_derive_replace")
    return lambda: DeriveColumn(name=name, expression=expression, replace=replace)


def _form_recode(ctx, columns, categories, numeric):
    column = st.selectbox(ctx.t("review.page.column"), columns, key="rv_f_recode_col")
    text = st.text_input(ctx.t("review.page.mapping"), placeholder="1=male, 0=female", key="rv_f_recode_map")
    return lambda: RecodeCategories(column=column, mapping=_mapping(ctx, text) or ())


def _form_merge(ctx, columns, categories, numeric):
    names = list(categories) or columns
    column = st.selectbox(ctx.t("review.page.column"), names, key="rv_f_merge_col")
    labels = st.multiselect(ctx.t("review.page.labels"), categories.get(column, []), key=f"rv_f_merge_labels_{column}",
                            select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    into = st.text_input(ctx.t("review.page.into"), key="rv_f_merge_into")
    return lambda: MergeCategories(column=column, labels=tuple(labels), into=_typed(into) if into.strip() else None)


def _form_order(ctx, columns, categories, numeric):
    names = list(categories) or columns
    column = st.selectbox(ctx.t("review.page.column"), names, key="rv_f_order_col")
    order = st.multiselect(ctx.t("review.page.order"), categories.get(column, []), key=f"rv_f_order_{column}",
                           select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    return lambda: OrderCategories(column=column, order=tuple(order))


def _form_rename(ctx, columns, categories, numeric):
    column = st.selectbox(ctx.t("review.page.column"), columns, key="rv_f_rename_col")
    new_name = st.text_input(ctx.t("review.page.new_name"), key="rv_f_rename_new")
    return lambda: RenameColumn(column=column, new_name=new_name)


def _form_units(ctx, columns, categories, numeric):
    column = st.selectbox(ctx.t("review.page.column"), numeric, key="rv_f_units_col")
    a, b, c = st.columns(3)
    factor = a.number_input(ctx.t("review.page.factor"), value=1.0, format="%.6g", key="rv_f_units_factor")
    offset = b.number_input(ctx.t("review.page.offset"), value=0.0, format="%.6g", key="rv_f_units_offset")
    unit = c.text_input(ctx.t("review.page.unit"), key="rv_f_units_unit")
    return lambda: ConvertUnits(column=column, factor=float(factor), offset=float(offset), unit=unit)


def _form_range(ctx, columns, categories, numeric):
    column = st.selectbox(ctx.t("review.page.column"), numeric, key="rv_f_range_col")
    a, b, c = st.columns(3)
    low = a.number_input(ctx.t("review.page.low"), value=None, format="%.6g", key="rv_f_range_low")
    high = b.number_input(ctx.t("review.page.high"), value=None, format="%.6g", key="rv_f_range_high")
    codes = c.text_input(ctx.t("review.page.missing_codes"), placeholder="0, -1", key="rv_f_range_codes")
    return lambda: PlausibleRange(column=column, low=low, high=high, missing_codes=_numbers(codes))


def _form_timeseries(ctx, columns, categories, numeric, *, above):
    versions = attempt(ctx.lang, datasets.list_versions, ctx.workbench, ctx.actor, ctx.project_id) or []
    by_ref = {f"v{v.version}": v for v in versions}
    other = [ref for ref, v in by_ref.items() if v.id != st.session_state.get("rv_dataset")]
    table = above.selectbox(ctx.t("review.page.ts_table"), list(by_ref), key="rv_f_ts_table",  # not the reviewed table
                            index=list(by_ref).index(other[0]) if other else 0,
                            format_func=lambda ref: f"{ref} · {by_ref[ref].label} ({by_ref[ref].n_rows:,})")
    long_columns = list((by_ref[table].profile or {}).get("types", {})) if table else []
    a, b = st.columns(2)
    id_column = a.selectbox(ctx.t("review.page.ts_id"), long_columns, key=f"rv_f_ts_id_{table}")
    join_on = b.selectbox(ctx.t("review.page.ts_join"), columns, key="rv_f_ts_join",
                          index=columns.index(id_column) if id_column in columns else 0)
    c, d, e = st.columns(3)
    time_column = c.selectbox(ctx.t("review.page.ts_time"), long_columns, key=f"rv_f_ts_time_{table}")
    variable = d.selectbox(ctx.t("review.page.ts_variable"), long_columns, key=f"rv_f_ts_var_{table}")
    value = e.selectbox(ctx.t("review.page.ts_value"), long_columns, key=f"rv_f_ts_val_{table}")
    f, g = st.columns(2)
    start = f.number_input(ctx.t("review.page.ts_start"), value=0.0, key="rv_f_ts_start")
    end = g.number_input(ctx.t("review.page.ts_end"), value=2880.0, key="rv_f_ts_end",
                         help=ctx.t("review.page.ts_end_help"))
    stats = st.multiselect(ctx.t("review.page.ts_statistics"), TIME_SERIES_STATISTICS,
                           default=list(TIME_SERIES_STATISTICS), key="rv_f_ts_stats", select_all=ctx.select_all,
                           placeholder=ctx.t("app.choose"))
    variables = st.text_input(ctx.t("review.page.ts_variables"), placeholder="HR, MAP, Temp", key="rv_f_ts_vars")
    return lambda: AggregateTimeSeries(
        table=table or "", id_column=id_column or "", time_column=time_column or "", variable_column=variable or "",
        value_column=value or "", join_on=join_on if join_on != id_column else "", window_start=float(start),
        window_end=float(end) if end is not None else None, statistics=tuple(stats),
        variables=tuple(v.strip() for v in variables.split(",") if v.strip()))


def _form_impute(ctx, columns, categories, numeric):
    cols = _cols_select(ctx, "review.page.columns", columns, "rv_f_impute_cols")
    a, b = st.columns(2)
    how = a.selectbox(ctx.t("review.page.numbers_by"), ("median", "mean", "iterative"), key="rv_f_impute_num",
                      format_func=lambda c: ctx.t("review.choice." + c))
    cat = b.selectbox(ctx.t("review.page.labels_by"), ("most_frequent", "constant"), key="rv_f_impute_cat",
                      format_func=lambda c: ctx.t("review.choice." + c))
    indicator = st.checkbox(ctx.t("review.page.indicator"), value=True, key="rv_f_impute_ind")
    return lambda: Impute(columns=tuple(cols), numeric=how, categorical=cat, add_indicator=indicator)


def _form_clip(ctx, columns, categories, numeric):
    cols = _cols_select(ctx, "review.page.columns", numeric, "rv_f_clip_cols")
    a, b = st.columns(2)
    lower = a.number_input(ctx.t("review.page.lower_q"), value=0.01, min_value=0.0, max_value=1.0, key="rv_f_clip_lo")
    upper = b.number_input(ctx.t("review.page.upper_q"), value=0.99, min_value=0.0, max_value=1.0, key="rv_f_clip_hi")
    return lambda: ClipOutliers(columns=tuple(cols), lower=float(lower), upper=float(upper))


def _form_scale(ctx, columns, categories, numeric):
    cols = _cols_select(ctx, "review.page.columns", numeric, "rv_f_scale_cols")
    method = st.selectbox(ctx.t("review.page.method"), ("standard", "robust", "minmax"), key="rv_f_scale_method",
                          format_func=lambda c: ctx.t("review.choice." + c))
    return lambda: Scale(columns=tuple(cols), method=method)


def _form_log(ctx, columns, categories, numeric):
    cols = st.multiselect(ctx.t("review.page.columns"), numeric, key="rv_f_log_cols", select_all=ctx.select_all,
                          placeholder=ctx.t("app.choose"))
    return lambda: LogTransform(columns=tuple(cols))


def _form_encode(ctx, columns, categories, numeric):
    cols = _cols_select(ctx, "review.page.columns", list(categories), "rv_f_encode_cols")
    method = st.selectbox(ctx.t("review.page.method"), ("onehot", "ordinal", "target"), key="rv_f_encode_method",
                          format_func=lambda c: ctx.t("review.choice." + c))
    return lambda: Encode(columns=tuple(cols), method=method)


def _form_rare(ctx, columns, categories, numeric):
    cols = _cols_select(ctx, "review.page.columns", list(categories), "rv_f_rare_cols")
    a, b = st.columns(2)
    fraction = a.number_input(ctx.t("review.page.min_fraction"), value=0.01, min_value=0.0, max_value=0.5,
                              key="rv_f_rare_frac")
    label = b.text_input(ctx.t("review.page.label"), value="Other", key="rv_f_rare_label")
    return lambda: GroupRareCategories(columns=tuple(cols), min_fraction=float(fraction), label=label)


_FORMS = {
    "filter_rows": _form_filter, "drop_columns": _form_drop, "derive_column": _form_derive, "recode": _form_recode,
    "merge_categories": _form_merge, "order_categories": _form_order, "rename_column": _form_rename,
    "convert_units": _form_units, "plausible_range": _form_range, "aggregate_timeseries": _form_timeseries,
    "impute": _form_impute, "clip_outliers": _form_clip, "scale": _form_scale, "log_transform": _form_log,
    "encode": _form_encode, "group_rare": _form_rare,
}


def split_form(ctx: PageContext, draft: state.Draft, columns: list[str]) -> None:
    st.subheader(ctx.t("review.page.split"))
    recipe = draft.recipe
    if recipe is None:
        return
    spec = recipe.split
    kinds = ("stratified_kfold", "grouped_kfold", "temporal")
    with st.form("rv_split"):
        kind = st.radio(ctx.t("review.page.split_kind"), kinds, index=kinds.index(spec.kind), horizontal=True,
                        format_func=lambda k: ctx.t("review.page.split." + k))
        a, b = st.columns(2)
        folds = a.number_input(ctx.t("review.page.folds"), min_value=2, max_value=20, value=spec.n_folds, step=1)
        test = b.number_input(ctx.t("review.page.test_share"), min_value=0.0, max_value=0.5,
                              value=float(spec.test_fraction), step=0.05)
        c, d = st.columns(2)
        options = [""] + columns
        group = c.selectbox(ctx.t("review.page.group_column"), options, format_func=lambda n: n or "—",
                            index=options.index(spec.group_column) if spec.group_column in options else 0)
        time = d.selectbox(ctx.t("review.page.time_column"), options, format_func=lambda n: n or "—",
                           index=options.index(spec.time_column) if spec.time_column in options else 0)
        submitted = st.form_submit_button(ctx.t("review.page.apply_split"))
    if submitted:
        try:
            new = SplitSpec(kind=kind, n_folds=int(folds), test_fraction=float(test), group_column=group or None,
                            time_column=time or None)
            new.validate()
        except RecipeError as error:
            st.error(message(error, ctx.lang))
            return
        if state.propose(ctx, dataclasses.replace(recipe, split=new)):
            st.rerun()
