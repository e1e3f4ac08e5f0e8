"""The discussion panel of a run, included at the bottom of the results page.

Comments are shown as text (``st.text``), never as HTML or Markdown, so whatever someone typed is
displayed exactly as typed and can run nothing."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages._shell import attempt, succeeded
from permissions.actions import Action
from workbench.services import comments, results

__all__ = ["panel"]


def panel(ctx: Any, run_id: int) -> None:
    """The thread of ``run_id`` with a box to add to it (for those who may write) and a hide button
    per comment (for moderators)."""
    if not results.can(ctx.workbench, ctx.actor, Action.COMMENTS_READ, project_id=ctx.project_id):
        return
    st.subheader(ctx.t("comments.title"))
    thread = attempt(ctx.lang, comments.list_comments, ctx.workbench, ctx.actor, run_id=run_id)
    if thread is None:
        return
    moderator = ctx.can(Action.COMMENTS_MODERATE)
    if not thread:
        st.caption(ctx.t("comments.none"))
    for comment in thread:
        with st.container(border=True):
            head = ctx.t("comments.meta", author=comment.author, when=f"{comment.created_at:%Y-%m-%d %H:%M}")
            st.caption(head + (" · " + ctx.t("comments.hidden_by", user=comment.hidden_by) if comment.hidden else ""))
            st.text(comment.body)
            if moderator and not comment.hidden and st.button(ctx.t("comments.hide"), key=f"cm_hide_{comment.id}",
                                                                icon=":material/visibility_off:"):
                if succeeded(ctx.lang, comments.hide_comment, ctx.workbench, ctx.actor, comment_id=comment.id):
                    st.rerun()
    if not results.can(ctx.workbench, ctx.actor, Action.COMMENTS_WRITE, project_id=ctx.project_id):
        return
    with st.form(f"cm_form_{run_id}", clear_on_submit=True, border=False):
        body = st.text_area(ctx.t("comments.new"), max_chars=comments.MAX_LENGTH, key=f"cm_body_{run_id}",
                            placeholder=ctx.t("comments.placeholder", limit=comments.MAX_LENGTH))
        if st.form_submit_button(ctx.t("comments.post"), icon=":material/send:"):
            if succeeded(ctx.lang, comments.add_comment, ctx.workbench, ctx.actor, run_id=run_id, body=body):
                st.toast(ctx.t("comments.posted"), icon=":material/check:")
                st.rerun()
