from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permissions.actions import ROW_LEVEL_ACTIONS, Action
from permissions.policy import (
    DENIAL_REASONS,
    Actor,
    Decision,
    Membership,
    Resource,
    allowed_actions,
    check,
    disclosure_applies,
    four_eyes_allows,
    require,
)
from permissions.roles import FACETS
from pipelines.errors import PermissionDenied
from workbench.i18n import t

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LOCALES = Path(__file__).resolve().parents[2] / "workbench" / "locales"


def test_require_raises_the_reason_key_with_parameters() -> None:
    collaborator = Actor(7, "user", True, {3: Membership("collaborator")})
    with pytest.raises(PermissionDenied) as info:
        require(collaborator, Action.DATASET_VIEW_ROWS, Resource.project(3, shared=FACETS), now=NOW)
    err = info.value
    assert err.key == "auth.denied.role_lacks_action"
    assert err.params == {
        "action": "dataset.view_rows",
        "reason": "role_lacks_action",
        "role": "collaborator",
        "project_id": 3,
        "user_id": 7,
    }
    assert "collaborator" in t(err.key, "en", **err.params)
    assert "dataset.view_rows" in t(err.key, "ko", **err.params)


def test_require_returns_the_decision_when_allowed() -> None:
    owner = Actor(1, "user", True, {3: Membership("owner")})
    decision = require(owner, "recipe.approve", Resource.project(3), now=NOW)
    assert decision == Decision(True, "auth.allowed.project_role", "owner")


def test_anonymous_require_names_no_user() -> None:
    with pytest.raises(PermissionDenied) as info:
        require(None, Action.PROJECT_VIEW, Resource.project(3), now=NOW)
    assert info.value.key == "auth.denied.anonymous"
    assert info.value.params["user_id"] == ""


def test_unknown_action_is_denied_not_raised() -> None:
    owner = Actor(1, "user", True, {3: Membership("owner")})
    decision = check(owner, "dataset.export_everything", Resource.project(3), now=NOW)
    assert (decision.allowed, decision.reason) == (False, "unknown_action")
    assert not decision


def test_unknown_site_role_gets_nothing_even_with_membership() -> None:
    actor = Actor(1, "superuser", True, {3: Membership("owner")})
    assert check(actor, Action.AUDIT_READ, Resource.site(), now=NOW).reason == "unknown_site_role"
    # The project role still counts in its project: site role and membership are independent.
    assert check(actor, Action.PROJECT_VIEW, Resource.project(3), now=NOW).allowed


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(None, Action.PROJECT_VIEW, Resource.project(1), now=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Membership("owner", datetime(2026, 1, 1))


def test_expiry_in_another_timezone_is_compared_in_utc() -> None:
    seoul = timezone(timedelta(hours=9))
    # 18:00 in Seoul is 09:00 UTC, exactly NOW: the membership has just ended.
    actor = Actor(1, "user", True, {3: Membership("clinician", datetime(2026, 3, 1, 18, 0, tzinfo=seoul))})
    assert check(actor, Action.PROJECT_VIEW, Resource.project(3), now=NOW).reason == "membership_expired"
    assert check(actor, Action.PROJECT_VIEW, Resource.project(3), now=NOW - timedelta(seconds=1)).allowed


def test_memberships_cannot_be_changed_after_the_actor_is_built() -> None:
    source = {3: Membership("collaborator")}
    actor = Actor(1, "user", True, source)
    source[3] = Membership("owner")
    assert actor.memberships[3].role == "collaborator"
    with pytest.raises(TypeError):
        actor.memberships[4] = Membership("owner")  # type: ignore[index]
    assert hash(actor) == hash(Actor(1, "user", True, {3: Membership("collaborator")}))


def test_collaborator_parts_must_each_be_shared() -> None:
    collaborator = Actor(7, "user", True, {3: Membership("collaborator")})
    shared = Resource.project(3, shared={"metrics", "model_card"})
    assert check(collaborator, Action.RESULTS_VIEW, shared, now=NOW).allowed
    assert check(collaborator, Action.RESULTS_VIEW, Resource.project(3, shared={"metrics"}, part="metrics"), now=NOW).allowed
    refused = check(collaborator, Action.RESULTS_VIEW, Resource.project(3, shared={"metrics"}, part="figures"), now=NOW)
    assert (refused.allowed, refused.reason) == (False, "not_shared")
    assert check(collaborator, Action.FIGURES_DOWNLOAD, shared, now=NOW).reason == "not_shared"
    assert check(collaborator, Action.MODEL_VALIDATE_EXTERNAL, shared, now=NOW).reason == "not_shared"
    assert check(collaborator, Action.MODEL_VALIDATE_EXTERNAL, Resource.project(3, shared={"validation"}), now=NOW).allowed
    # A part that does not belong to the action is refused even when shared.
    odd = Resource.project(3, shared=FACETS, part="tables")
    assert check(collaborator, Action.FIGURES_DOWNLOAD, odd, now=NOW).reason == "not_shared"
    # Facets never restrict full members.
    clinician = Actor(5, "user", True, {3: Membership("clinician")})
    assert check(clinician, Action.FIGURES_DOWNLOAD, Resource.project(3), now=NOW).allowed


def test_resource_rejects_inconsistent_shapes() -> None:
    with pytest.raises(ValueError):
        Resource.project(3, shared={"everything"})
    with pytest.raises(ValueError):
        Resource("site", 3)
    with pytest.raises(ValueError):
        Resource("project")


def test_allowed_actions_of_a_collaborator_hold_no_row_level_action() -> None:
    collaborator = Actor(7, "user", True, {3: Membership("collaborator")})
    allowed = allowed_actions(collaborator, Resource.project(3, shared=FACETS), now=NOW)
    assert allowed == {
        Action.PROJECT_VIEW,
        Action.RESULTS_VIEW,
        Action.FIGURES_DOWNLOAD,
        Action.TABLES_DOWNLOAD,
        Action.PAPER_PACK_DOWNLOAD,
        Action.MODEL_VALIDATE_EXTERNAL,
        Action.MODEL_PREDICT,
        Action.COMMENTS_READ,
        Action.COMMENTS_WRITE,
    }
    assert not allowed & ROW_LEVEL_ACTIONS
    assert allowed_actions(None, Resource.project(3), now=NOW) == frozenset()


def test_four_eyes() -> None:
    assert four_eyes_allows(approver_id=1, author_id=1, enabled=False).allowed
    assert four_eyes_allows(approver_id=2, author_id=1, enabled=True) == Decision(True, "auth.allowed.four_eyes")
    same = four_eyes_allows(approver_id=1, author_id=1, enabled=True)
    assert (same.allowed, same.reason_key) == (False, "auth.denied.four_eyes")
    assert not four_eyes_allows(approver_id=1, author_id=None, enabled=True).allowed


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders_in_both_languages() -> None:
    en = json.loads((LOCALES / "en" / "auth.json").read_text(encoding="utf-8"))
    ko = json.loads((LOCALES / "ko" / "auth.json").read_text(encoding="utf-8"))
    assert set(en) == set(ko)
    for key in en:
        assert key.startswith("auth."), key
        assert _placeholders(en[key]) == _placeholders(ko[key]), key
        assert re.search(r"[가-힣]", ko[key]), f"{key} is not translated"
    for reason in DENIAL_REASONS:
        assert f"auth.denied.{reason}" in en
    for action in Action:
        assert f"auth.action.{action.value}" in en
    for facet in FACETS:
        assert f"auth.facet.{facet}" in en
    for role in ("user", "admin", "owner", "clinician", "data_scientist", "collaborator"):
        assert f"auth.role.{role}" in en


def test_denial_messages_only_use_parameters_that_are_passed() -> None:
    en = json.loads((LOCALES / "en" / "auth.json").read_text(encoding="utf-8"))
    passed_by_require = {"action", "reason", "role", "project_id", "user_id"}
    passed_by_require_session = {"reason", "idle_minutes", "absolute_hours"}
    for reason in DENIAL_REASONS:
        used = _placeholders(en[f"auth.denied.{reason}"])
        allowed = passed_by_require_session if reason.startswith("session_") else passed_by_require
        assert used <= allowed, (reason, used - allowed)


def test_disclosure_applies_to_everyone_who_cannot_see_rows() -> None:
    project = Resource.project(3, shared=FACETS)
    for role, expected in {"owner": False, "clinician": False, "data_scientist": False, "collaborator": True}.items():
        actor = Actor(1, "user", True, {3: Membership(role)})
        assert disclosure_applies(actor, project, now=NOW) is expected, role
    assert disclosure_applies(Actor(2, "admin"), project, now=NOW)
    assert disclosure_applies(None, project, now=NOW)
    expired = Actor(1, "user", True, {3: Membership("owner", NOW - timedelta(seconds=1))})
    assert disclosure_applies(expired, project, now=NOW)


_roles = st.sampled_from(["owner", "clinician", "data_scientist", "collaborator", "viewer", ""])
_memberships = st.dictionaries(
    st.integers(1, 4),
    st.builds(Membership, _roles, st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)))),
    max_size=4,
)
_actors = st.one_of(
    st.none(),
    st.builds(Actor, st.integers(1, 50), st.sampled_from(["user", "admin", "root"]), st.booleans(), _memberships),
)
_resources = st.one_of(
    st.just(Resource.site()),
    st.builds(
        Resource.project,
        st.integers(1, 4),
        shared=st.frozensets(st.sampled_from(sorted(FACETS))),
        part=st.one_of(st.none(), st.sampled_from(sorted(FACETS))),
    ),
)


@settings(max_examples=300, deadline=None)
@given(actor=_actors, action=st.sampled_from(list(Action)), resource=_resources,
       now=st.datetimes(timezones=st.just(UTC)))
def test_invariants_hold_for_any_actor(actor, action, resource, now) -> None:
    decision = check(actor, action, resource, now=now)
    assert decision.reason_key.startswith("auth.allowed." if decision.allowed else "auth.denied.")
    if not decision.allowed:
        assert decision.reason in DENIAL_REASONS
    if decision.allowed:
        assert actor is not None and actor.active
        if resource.project_id is not None:
            membership = actor.memberships[resource.project_id]
            assert membership.expires_at is None or membership.expires_at > now
            assert decision.role == membership.role
            if membership.role == "collaborator":
                assert not action.row_level
        else:
            assert actor.site_role in {"user", "admin"}
