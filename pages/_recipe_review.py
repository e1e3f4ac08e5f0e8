"""The review screen: cohort flow, prepared table, before/after distributions, warnings, approval, diff."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from permissions.actions import Action
from pages import _recipe_state as state
from pages._shell import PageContext, attempt, succeeded
from pipelines.recipe import Recipe
from workbench.services import recipes, review
from workbench.services.review import Distribution, Preview

__all__ = ["render_review", "render_versions", "four_eyes_setting"]

_PAGE = 50


def render_review(ctx: PageContext, draft: state.Draft, shown: Preview) -> None:
    prepared = shown.prepared
    a, b, c, d = st.columns([1, 1, 1, 1.5])  # the task's name ("예/아니오") is a word, not a number: not cut off
    a.metric(ctx.t("review.page.rows_in"), f"{shown.rows_in:,}")
    b.metric(ctx.t("review.page.rows_analysed"), f"{len(prepared.frame):,}")
    c.metric(ctx.t("review.page.predictors"), f"{len(prepared.features):,}")
    d.metric(ctx.t("review.page.task"), ctx.t("review.page.task." + prepared.task))
    if shown.model_problem is not None:
        from workbench.i18n import message

        st.error(message(shown.model_problem, ctx.lang), icon=":material/error:")
    _flow(ctx, shown)
    _table(ctx, shown)
    _distributions(ctx, shown)
    _warnings_and_approval(ctx, draft, shown)


def _flow(ctx: PageContext, shown: Preview) -> None:
    st.subheader(ctx.t("review.page.flow"))
    rows = review.flow_labels(shown, ctx.lang)
    table = pd.DataFrame([{ctx.t("review.page.col.step"): r["step"], ctx.t("review.page.col.what"): r["what"],
                           ctx.t("review.page.col.rows"): f"{r['rows_in']:,} → {r['rows_out']:,}",
                           ctx.t("review.page.col.columns"): f"{r['columns_in']} → {r['columns_out']}",
                           ctx.t("review.page.col.excluded"): r["excluded"],
                           ctx.t("review.page.col.reason"): r["reason"]} for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")  # full width: "299 → 299" is not cut off
    left, right = st.columns([3, 2], vertical_alignment="center")  # a figure one can read beside its downloads
    png = attempt(ctx.lang, review.flow_figure, shown, lang=ctx.lang, fmt="png", dpi=300)
    if png is not None:
        left.image(png, caption=ctx.t("review.page.flow_caption", rows_in=f"{shown.rows_in:,}",
                                      rows_out=f"{len(shown.prepared.frame):,}"))
        right.download_button(ctx.t("review.page.flow_png"), png, file_name="cohort_flow.png", mime="image/png",
                              key="rv_flow_png")
        pdf = attempt(ctx.lang, review.flow_figure, shown, lang=ctx.lang, fmt="pdf", dpi=300)
        if pdf is not None:
            right.download_button(ctx.t("review.page.flow_pdf"), pdf, file_name="cohort_flow.pdf",
                                  mime="application/pdf", key="rv_flow_pdf")


def _table(ctx: PageContext, shown: Preview) -> None:
    st.subheader(ctx.t("review.page.prepared"))
    frame = shown.prepared.frame
    a, b = st.columns([3, 1], vertical_alignment="bottom")
    sort_by = a.selectbox(ctx.t("review.page.sort_by"), [""] + [str(c) for c in frame.columns],
                          format_func=lambda n: n or "—", key="rv_sort")
    descending = b.toggle(ctx.t("review.page.descending"), key="rv_desc")
    number = st.session_state.get("rv_table_page", 0)
    page, total = review.prepared_rows(shown, offset=number * _PAGE, limit=_PAGE, sort_by=sort_by or None,
                                       descending=descending)
    pages = max(1, -(-total // _PAGE))
    if number >= pages:
        st.session_state["rv_table_page"] = 0
        st.rerun()
    st.dataframe(page, width="stretch", height=min(38 + 35 * len(page), 420))
    bar = st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center")
    if bar.button(ctx.t("review.page.previous"), disabled=number == 0, key="rv_prev"):
        st.session_state["rv_table_page"] = number - 1
        st.rerun()
    bar.caption(ctx.t("review.page.page_of", page=number + 1, pages=pages, rows=f"{total:,}"))
    if bar.button(ctx.t("review.page.next"), disabled=number + 1 >= pages, key="rv_next"):
        st.session_state["rv_table_page"] = number + 1
        st.rerun()


def _bars(dist: Distribution) -> tuple[list, list]:
    if dist.kind == "numeric":
        centres = [(a + b) / 2 for a, b in zip(dist.edges[:-1], dist.edges[1:])]
        return centres, list(dist.counts)
    return list(dist.labels), list(dist.label_counts)


def _distributions(ctx: PageContext, shown: Preview) -> None:
    st.subheader(ctx.t("review.page.changes"))
    if not shown.changes:
        st.info(ctx.t("review.page.no_changes"))
        return
    summary = pd.DataFrame([{ctx.t("review.page.col.column"): c.column,
                             ctx.t("review.page.col.change"): ctx.t("review.page.change." + c.change),
                             ctx.t("review.page.col.cells"): c.cells_changed} for c in shown.changes])
    st.dataframe(summary, hide_index=True, width="stretch")
    drawable = [c for c in shown.changes if c.before is not None or c.after is not None]
    choice = st.selectbox(ctx.t("review.page.change_column"), [c.column for c in drawable], key="rv_change_col")
    change = next(c for c in drawable if c.column == choice)
    figure = go.Figure()
    for dist, name in ((change.before, ctx.t("review.page.before")), (change.after, ctx.t("review.page.after"))):
        if dist is None:
            continue
        x, y = _bars(dist)
        figure.add_bar(x=x, y=y, name=f"{name} (n={dist.count - dist.missing:,}, {ctx.t('review.page.missing')} "
                                      f"{dist.missing:,})", opacity=0.65)
    figure.update_layout(barmode="overlay", height=300, margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", y=1.15))
    st.plotly_chart(figure, width="stretch", key=f"rv_dist_{choice}")


def _warnings_and_approval(ctx: PageContext, draft: state.Draft, shown: Preview) -> None:
    st.subheader(ctx.t("review.page.warnings"))
    ticked: list[str] = []
    if not shown.warnings:
        st.success(ctx.t("review.page.no_warnings"))
    tag = (draft.parent_id or 0, draft.recipe.content_hash()[:10])
    for warning in shown.warnings:
        wid = review.warning_id(warning)
        box = st.error if warning.severity == "high" else st.warning
        box(review.warning_text(warning, ctx.lang), icon=":material/warning:")
        if st.checkbox(ctx.t("review.page.acknowledge"), key=f"rv_ack_{tag}_{wid}"):
            ticked.append(wid)
    st.subheader(ctx.t("review.page.approval"))
    if draft.parent_id is None or draft.edited:
        st.info(ctx.t("review.page.save_first"))
        return
    record = attempt(ctx.lang, recipes.approval_record, ctx.workbench, ctx.actor, draft.parent_id)
    if record is not None:
        (st.success if record.still_valid else st.warning)(ctx.t(
            "review.page.approved_by" if record.still_valid else "review.page.approval_stale",
            who=record.approver, when=f"{record.approved_at:%Y-%m-%d %H:%M} UTC", recipe=record.recipe_sha256[:12],
            dataset=record.dataset_sha256[:12]), icon=":material/verified:")
        if record.still_valid:
            return
    if not ctx.can(Action.RECIPE_APPROVE):
        st.info(ctx.t("review.page.cannot_approve"))
        return
    open_ones = [review.warning_id(w) for w in shown.warnings if review.warning_id(w) not in ticked]
    if open_ones:
        st.caption(ctx.t("review.page.tick_all", count=len(open_ones)))
    if st.button(ctx.t("review.page.approve"), icon=":material/task_alt:", type="primary", disabled=bool(open_ones),
                 key="rv_approve"):
        approval = attempt(ctx.lang, review.approve_version, ctx.workbench, ctx.actor, recipe_version_id=draft.parent_id,
                           acknowledged=ticked)
        if approval is not None:
            st.rerun()


def render_versions(ctx: PageContext, versions: list) -> None:
    st.subheader(ctx.t("review.page.versions"))
    if not versions:
        st.info(ctx.t("review.page.no_versions"))
        return
    rows = []
    for row in versions:
        record = attempt(ctx.lang, recipes.approval_record, ctx.workbench, ctx.actor, row.id)
        rows.append({ctx.t("review.page.col.version"): f"v{row.version}",
                     ctx.t("review.page.col.saved"): f"{row.created_at:%Y-%m-%d %H:%M}",
                     ctx.t("review.page.col.parent"): next((f"v{p.version}" for p in versions if p.id == row.parent_id), "—"),
                     ctx.t("review.page.col.sha"): row.content_sha256[:12],
                     ctx.t("review.page.col.approval"): (ctx.t("review.page.approved_short", who=record.approver)
                                                         if record is not None and record.still_valid
                                                         else ctx.t("review.page.awaiting"))})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if len(versions) < 2:
        return
    st.subheader(ctx.t("review.page.diff"))
    by_id = {v.id: v for v in versions}
    ids = list(by_id)
    a, b = st.columns(2)
    old = a.selectbox(ctx.t("review.page.diff_old"), ids, index=1, format_func=lambda i: f"v{by_id[i].version}",
                      key="rv_diff_old")
    new = b.selectbox(ctx.t("review.page.diff_new"), ids, index=0, format_func=lambda i: f"v{by_id[i].version}",
                      key="rv_diff_new")
    changes = attempt(ctx.lang, recipes.diff_versions, ctx.workbench, ctx.actor, old_id=old, new_id=new)
    if changes is None:
        return
    if not changes:
        st.info(ctx.t("review.page.diff_none"))
    _, old_recipe = recipes.get_version(ctx.workbench, ctx.actor, old)
    _, new_recipe = recipes.get_version(ctx.workbench, ctx.actor, new)
    for change in changes:
        st.markdown(_change_text(ctx, change, old_recipe, new_recipe))


def _change_text(ctx: PageContext, change, old: Recipe, new: Recipe) -> str:
    if change.change == "split":
        return ctx.t("review.page.diff_split", fields=", ".join(change.fields))
    before = review.describe_step(old.steps[change.index_a], ctx.lang) if change.index_a is not None else ""
    after = review.describe_step(new.steps[change.index_b], ctx.lang) if change.index_b is not None else ""
    if change.change == "added":
        return ":green[" + ctx.t("review.page.diff_added", step=after) + "]"
    if change.change == "removed":
        return ":red[" + ctx.t("review.page.diff_removed", step=before) + "]"
    return ctx.t("review.page.diff_changed", before=before, after=after, fields=", ".join(change.fields))


def four_eyes_setting(ctx: PageContext) -> None:
    enabled = attempt(ctx.lang, recipes.four_eyes_enabled, ctx.workbench, ctx.actor, ctx.project_id)
    if enabled is None:
        return
    if ctx.can(Action.PROJECT_EDIT_SETTINGS):
        wanted = st.toggle(ctx.t("review.page.four_eyes"), value=enabled, help=ctx.t("review.page.four_eyes_help"),
                           key=f"rv_four_eyes_{enabled}")
        if wanted != enabled and succeeded(ctx.lang, recipes.set_four_eyes, ctx.workbench, ctx.actor,
                                           ctx.project_id, wanted):
            st.rerun()
    elif enabled:
        st.caption(ctx.t("review.page.four_eyes_on"))
