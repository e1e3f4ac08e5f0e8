"""The recipe being edited on the review page: a draft kept in this browser session only.

Every edit builds a new Recipe and is accepted only when the preview of the new draft succeeds,
so the physician sees the validation message at the step that broke it and the draft stays
runnable. The draft becomes a stored, immutable version only through "Save as a new version".
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from pages._shell import PageContext, attempt
from pipelines.recipe import Recipe
from workbench.services import review
from workbench.services.review import Preview

__all__ = ["Draft", "load", "current", "propose", "DRAFT_KEY"]

DRAFT_KEY = "rv_draft"


@dataclass(frozen=True)
class Draft:
    """What is being edited: which dataset, which stored version it started from (None: new)."""

    dataset_id: int
    parent_id: int | None
    recipe: Recipe | None
    saved_sha256: str | None = None  # the stored version's hash; differs once edited

    @property
    def edited(self) -> bool:
        return self.recipe is not None and self.recipe.content_hash() != self.saved_sha256


def load(dataset_id: int, parent_id: int | None, recipe: Recipe | None, saved_sha256: str | None) -> Draft:
    draft = Draft(dataset_id, parent_id, recipe, saved_sha256)
    st.session_state[DRAFT_KEY] = draft
    st.session_state.pop("rv_preview", None)
    return draft


def current() -> Draft | None:
    return st.session_state.get(DRAFT_KEY)


def preview_of(ctx: PageContext, draft: Draft) -> Preview | None:
    """The preview of the draft, recomputed only when the draft changed (kept in this session)."""
    if draft.recipe is None:
        return None
    key = (draft.dataset_id, draft.recipe.content_hash())
    cached = st.session_state.get("rv_preview")
    if cached is not None and cached[0] == key:
        return cached[1]
    shown = attempt(ctx.lang, review.preview, ctx.workbench, ctx.actor, dataset_version_id=draft.dataset_id,
                    recipe=draft.recipe)
    if shown is not None:
        st.session_state["rv_preview"] = (key, shown)
    return shown


def propose(ctx: PageContext, recipe: Recipe) -> bool:
    """Accept an edited recipe if its preview runs; otherwise show why and keep the old draft."""
    draft = current()
    if draft is None:
        return False
    shown = attempt(ctx.lang, review.preview, ctx.workbench, ctx.actor, dataset_version_id=draft.dataset_id,
                    recipe=recipe)
    if shown is None:
        return False
    st.session_state[DRAFT_KEY] = Draft(draft.dataset_id, draft.parent_id, recipe, draft.saved_sha256)
    st.session_state["rv_preview"] = ((draft.dataset_id, recipe.content_hash()), shown)
    return True
