"""The frame around every page: sign-in state, language, current project, navigation, errors.

``run_app`` is called by the app entry on every rerun. Pages call :func:`page_context` to get what
the shell resolved, and :func:`attempt` around service calls so that a WorkbenchError becomes a
readable message instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from permissions.actions import Action
from permissions.policy import Actor, Resource, check
from pipelines.errors import WorkbenchError
from workbench import browser_session
from workbench.context import Workbench
from workbench.db.models import utcnow
from workbench.i18n import LANGUAGES, message, t
from workbench.services import accounts, projects, results

__all__ = ["PageContext", "page_context", "attempt", "succeeded", "hand_over", "run_app", "PAGES_DIR"]

PAGES_DIR = Path(__file__).resolve().parent
T = TypeVar("T")


@dataclass(frozen=True)
class PageContext:
    workbench: Workbench
    actor: Actor
    lang: str
    project_id: int | None
    shared: frozenset[str] | None = None  # the project's shared facets, read once at the start of this rerun

    def t(self, key: str, /, **params: Any) -> str:
        return t(key, self.lang, **params)

    @property
    def select_all(self) -> bool:
        """Whether a multiselect offers Streamlit's own "Select all": its text cannot be translated
        (Streamlit 1.67), so only English screens show it."""
        return self.lang == "en"

    def can(self, action: Action, *, project: bool = True) -> bool:
        """Would the service allow this? For a project, what the owner shared with collaborators counts.

        The shared facets come from this rerun's one read (the sidebar alone asks a dozen times);
        the next rerun reads them again, and every service call checks against the database itself.
        """
        if project and self.project_id is not None:
            if self.shared is None:
                return results.can(self.workbench, self.actor, action, project_id=self.project_id)
            resource = Resource.project(self.project_id, shared=self.shared)
            return check(self.actor, action, resource, now=utcnow()).allowed
        return check(self.actor, action, Resource.site(), now=utcnow()).allowed


@dataclass(frozen=True)
class _PageSpec:
    file: str
    title_key: str
    icon: str
    needs: Action | None  # None: any signed-in account
    project_scoped: bool


# Order is the order in the sidebar. Only pages that exist and that the user may open are listed.
_PAGES: tuple[_PageSpec, ...] = (
    _PageSpec("projects.py", "app.page.projects", ":material/folder_open:", None, False),
    _PageSpec("data.py", "app.page.data", ":material/table_view:", Action.DATASET_VIEW_ROWS, True),
    _PageSpec("review.py", "review.page.nav", ":material/fact_check:", Action.RECIPE_VIEW, True),
    _PageSpec("train.py", "train.page", ":material/model_training:", Action.TRAINING_VIEW_TRIALS, True),
    _PageSpec("results.py", "results.page", ":material/leaderboard:", Action.RESULTS_VIEW, True),
    _PageSpec("export.py", "results.export_page", ":material/ios_share:", Action.PROJECT_VIEW, True),
    _PageSpec("calculator.py", "calculator.page", ":material/calculate:", Action.MODEL_PREDICT, True),
    _PageSpec("validate.py", "validation.page", ":material/verified:", Action.MODEL_VALIDATE_EXTERNAL, True),
    _PageSpec("jobs.py", "app.page.jobs", ":material/pending_actions:", Action.PROJECT_VIEW, True),
    _PageSpec("members.py", "app.page.members", ":material/group:", Action.MEMBERS_VIEW, True),
    _PageSpec("admin_accounts.py", "app.page.accounts", ":material/manage_accounts:", Action.ACCOUNTS_MANAGE, False),
    _PageSpec("admin_audit.py", "app.page.audit", ":material/policy:", Action.AUDIT_READ, False),
    _PageSpec("account.py", "app.page.account", ":material/person:", None, False),
)


def page_context() -> PageContext:
    ctx = st.session_state.get("_ctx")
    if ctx is None:  # a page opened without the shell (should not happen when served)
        st.stop()
    return ctx


def attempt(lang: str, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T | None:
    """Run one service call; show a WorkbenchError as an error box and return None."""
    try:
        return call(*args, **kwargs)
    except WorkbenchError as error:
        st.error(message(error, lang), icon=":material/error:")
        return None


def succeeded(lang: str, call: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
    """Like :func:`attempt`, for calls that return nothing: True when no error was shown."""
    try:
        call(*args, **kwargs)
    except WorkbenchError as error:
        st.error(message(error, lang), icon=":material/error:")
        return False
    return True


def _language(default: str) -> str:
    chosen = st.session_state.get("lang")
    if chosen in LANGUAGES:
        return chosen
    locale = (st.context.locale or "").lower()
    for code in LANGUAGES:
        if locale.startswith(code):
            return code
    return default


def _session_token() -> str | None:
    """This tab's token, else the browser's session cookie (after a reload); a cookie already found
    stale in this tab is not tried again."""
    token = st.session_state.get("token")
    if token:
        return token
    cookie = st.context.cookies.get(browser_session.COOKIE)
    if not isinstance(cookie, str) or not cookie or cookie == st.session_state.get("_stale_cookie"):
        return None  # (the test harness has no real request: anything but text is no cookie)
    return cookie


def hand_over(token: str) -> None:
    """After a sign-in: keep the token for this tab and, when served, have the browser store it in
    the HttpOnly cookie (the next run's page posts a one-time code to the cookie route)."""
    st.session_state["token"] = token
    if browser_session.enabled():
        st.session_state["_handoff"] = browser_session.HANDOFF.issue(token)
    st.rerun()


def _store_cookie() -> None:
    """After a sign-in, until the cookie route has taken the one-time code: every run's page sends it
    in the background (a run cut short by the next click never reached the browser)."""
    code = st.session_state.get("_handoff")
    if code is None:
        return
    if not browser_session.HANDOFF.pending(code):  # the cookie is set (or the minute is over)
        del st.session_state["_handoff"]
        return
    st.html(browser_session.establish_script(code), unsafe_allow_javascript=True)


def _signed_in_actor(workbench: Workbench) -> Any:
    token = _session_token()
    actor = accounts.resolve_session(workbench, token) if token else None
    if token and actor is None:
        st.session_state.pop("token", None)
        st.session_state["_stale_cookie"] = token
        st.session_state["_notice"] = "app.session_ended"
        # A single sign-on session that timed out (or was revoked) ends at the provider too, as a
        # sign-out does: otherwise the next person at this workstation who clicks "Sign in with ..."
        # would be let in as this one without a password while the provider's session lasts.
        provider = accounts.sign_out(workbench, token)
        if provider is not None:
            browser_session.PROVIDER_LOGOUTS.expect(token, provider)
            st.logout()
            st.stop()
    if actor is None and workbench.settings.sso_enabled and st.user.is_logged_in and "_sso_refusal" not in st.session_state:
        # Back from the identity provider: the same server-side session as a password sign-in.
        try:
            signed = accounts.sign_in_sso(workbench, claims=st.user.to_dict())
        except WorkbenchError as error:  # refused and audited; the sign-in page says why
            st.session_state["_sso_refusal"] = error
        else:
            st.session_state.pop("_notice", None)
            hand_over(signed.token)
    return actor


def run_app(workbench: Workbench) -> None:
    lang = _language(workbench.settings.default_language)
    st.session_state["_sign_in_lang"] = lang
    actor = _signed_in_actor(workbench)

    if actor is None:
        st.session_state["_ctx"] = None
        st.session_state["_wb_for_sign_in"] = workbench
        # A bookmarked page opens the sign-in page at its address (not Streamlit's English "Page not found").
        form, title = str(PAGES_DIR / "sign_in.py"), t("app.page.sign_in", lang)
        pages = [st.Page(form, title=title, icon=":material/login:", default=True)] + [
            st.Page(form, title=title, url_path=spec.file.removesuffix(".py"), visibility="hidden") for spec in _PAGES]
        if _unknown_address(pages):
            st.session_state["_notice"] = "app.page_not_found_sign_in"
        nav = st.navigation(pages)
        _language_switch(lang)
        nav.run()
        return

    if actor.must_change_password:  # after an admin's reset: the change form only (read with the session)
        _password_change_only(PageContext(workbench=workbench, actor=actor, lang=lang, project_id=None))
        return

    project_id = _current_project(workbench, actor)
    shared = results.shared_facets(workbench, project_id) if project_id is not None else None
    ctx = PageContext(workbench=workbench, actor=actor, lang=lang, project_id=project_id, shared=shared)
    st.session_state["_ctx"] = ctx

    visible, refused = [], []
    for spec in _PAGES:
        url_path = spec.file.removesuffix(".py")
        if spec.project_scoped and project_id is None:  # a stale link with no project left: where to start
            refused.append(st.Page(_no_project(ctx, spec), title=t(spec.title_key, lang), url_path=url_path))
            continue
        if spec.needs is not None and not ctx.can(spec.needs, project=spec.project_scoped):
            # Reachable only by a stale link (e.g. access revoked while the page was open): it says
            # why instead of showing anything. Not listed in the sidebar.
            refused.append(st.Page(_refusal(ctx, spec), title=t(spec.title_key, lang), url_path=url_path))
            continue
        visible.append(st.Page(str(PAGES_DIR / spec.file), title=t(spec.title_key, lang), icon=spec.icon,
                               default=spec.file == "projects.py", url_path=url_path))
    unknown = _unknown_address(visible + refused)
    nav = st.navigation(visible + refused, position="hidden")
    _sidebar(ctx, visible)
    with st.sidebar:
        _store_cookie()
    if unknown:
        st.info(t("app.page_not_found", lang), icon=":material/explore_off:")
    nav.run()


def _password_change_only(ctx: PageContext) -> None:
    """Every address opens My account (its change-password form) until the account's own password is set."""
    st.session_state["_ctx"], st.session_state["_projects"] = ctx, {}
    form, title = str(PAGES_DIR / "account.py"), t("app.page.account", ctx.lang)
    pages = [st.Page(form, title=title, icon=":material/person:", url_path="change_password", default=True)] + [
        st.Page(form, title=title, url_path=spec.file.removesuffix(".py"), visibility="hidden") for spec in _PAGES]
    _unknown_address(pages)  # any other address (/sign_in just after signing in) opens the form too
    nav = st.navigation(pages, position="hidden")
    _sidebar(ctx, [])
    with st.sidebar:
        _store_cookie()
    nav.run()


_START_PAGES = ("projects", "sign_in")  # the start page signed in and signed out


def _unknown_address(pages: list[Any]) -> bool:
    """True for an address no page has (``/nonsense``: mistyped, or a link from another version),
    after pointing this run at the start page; the caller says so in the user's language.

    Streamlit 1.67's ``st.navigation`` has no hook for an unknown address: it opens the default page
    under an English-only "Page not found" dialog. So the page asked for (the address's page name,
    or a page link's hash) is looked up here first, and when no page has it the run is sent to the
    default page before ``st.navigation`` resolves it. The start pages' own addresses (``/projects``,
    which Streamlit serves as "/" only, or ``/sign_in`` just after signing in) open the start page
    without a notice. This reads private parts of Streamlit (the run's page intent, a page's hash):
    tests/pages/test_unknown_address.py and tests/e2e/test_unknown_address.py fail if an upgrade
    changes them."""
    manager = getattr(get_script_run_ctx(), "pages_manager", None)
    if manager is None:  # not served (a bare script run)
        return False
    wanted_hash, wanted_name = manager.intended_page_script_hash or "", manager.intended_page_name or ""
    if (not wanted_hash and not wanted_name) or wanted_hash in {p._script_hash for p in pages} or (
            not wanted_hash and wanted_name in {p.url_path for p in pages}):
        return False
    start = [st.Page(str(PAGES_DIR / "sign_in.py"), url_path=name) for name in _START_PAGES]
    default = next(p for p in pages if p.url_path == "")
    manager.set_script_intent(default._script_hash, "")
    return wanted_hash not in {p._script_hash for p in start} and wanted_name not in _START_PAGES


def _refusal(ctx: PageContext, spec: _PageSpec) -> Callable[[], None]:
    def page() -> None:
        from workbench.services._access import authorize

        st.title(ctx.t(spec.title_key))
        try:
            authorize(ctx.workbench, ctx.actor, spec.needs, project_id=ctx.project_id if spec.project_scoped else None)
        except WorkbenchError as error:  # the refusal is audited by authorize
            st.error(message(error, ctx.lang), icon=":material/block:")

    page.__name__ = f"refused_{spec.file.removesuffix('.py')}"
    return page


def _no_project(ctx: PageContext, spec: _PageSpec) -> Callable[[], None]:
    def page() -> None:
        st.title(ctx.t(spec.title_key))
        st.info(ctx.t("projects.none_yet"), icon=":material/folder_open:")
        st.page_link(str(PAGES_DIR / "projects.py"), label=ctx.t("app.page.projects"), icon=":material/folder_open:")

    page.__name__ = f"no_project_{spec.file.removesuffix('.py')}"
    return page


def _current_project(workbench: Workbench, actor: Actor) -> int | None:
    visible = {p.id: p for p in projects.list_projects(workbench, actor)}
    chosen = st.session_state.get("project_id")
    if chosen not in visible:
        chosen = next(iter(visible), None)
        st.session_state["project_id"] = chosen
    st.session_state["_projects"] = visible
    return chosen


def _sidebar(ctx: PageContext, pages: list) -> None:
    visible = st.session_state.get("_projects", {})
    with st.sidebar:
        for page in pages:
            st.page_link(page)
        st.divider()
        st.caption(ctx.t("app.signed_in_as", name=ctx.actor.name))
        if visible:
            ids = list(visible)
            st.selectbox(ctx.t("app.current_project"), ids,
                         format_func=lambda pid: visible[pid].name, key="project_id")
            progress = attempt(ctx.lang, projects.project_progress, ctx.workbench, ctx.actor, ctx.project_id) or {}
            st.markdown("**" + ctx.t("app.wizard") + "**")
            for step in projects.WIZARD_STEPS:
                mark = ":material/check_circle:" if progress.get(step) else ":material/radio_button_unchecked:"
                st.markdown(f"{mark} {ctx.t('app.step.' + step)}")
        _language_switch(ctx.lang)
        if st.button(ctx.t("app.sign_out"), icon=":material/logout:"):
            token = _session_token()  # a single sign-on session also ends at the provider (its address, if any)
            browser_session.PROVIDER_LOGOUTS.expect(token, accounts.sign_out(ctx.workbench, token))
            st.session_state.pop("token", None)
            st.session_state["_ctx"] = None
            # Streamlit's sign-out route drops its identity cookie and, through the workbench's
            # middleware, the session cookie; it then sends the browser home (or to the provider's sign-out).
            st.logout()
            st.stop()


def _language_switch(lang: str) -> None:
    codes = list(LANGUAGES)
    choice = st.sidebar.radio("Language / 언어", codes, index=codes.index(lang), format_func=LANGUAGES.get, horizontal=True)
    if choice != lang:
        st.session_state["lang"] = choice
        st.rerun()
