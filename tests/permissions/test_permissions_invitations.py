"""Which invitations of an address may be redeemed, and the account name made for it (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from permissions.sso import InvitationState, choose_invitations, username_for_email, valid_email

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER, EARLIER = NOW + timedelta(days=3), NOW - timedelta(seconds=1)


def test_only_open_invitations_of_a_still_entitled_inviter_are_usable() -> None:
    usable, _ = choose_invitations([
        InvitationState(1, LATER),
        InvitationState(2, EARLIER),
        InvitationState(3, LATER, revoked=True),
        InvitationState(4, LATER, membership_expires_at=EARLIER),  # the access it offers has ended already
        InvitationState(5, LATER, inviter_may_invite=False),
        InvitationState(6, LATER, membership_expires_at=LATER),
    ], now=NOW)
    assert usable == {1, 6}


@pytest.mark.parametrize(("states", "key"), [
    ([], "auth.sso.no_account"),
    ([InvitationState(1, NOW)], "auth.sso.invitation_expired"),  # valid *until*: not at that instant
    ([InvitationState(1, LATER, revoked=True), InvitationState(2, EARLIER)], "auth.sso.invitation_expired"),
    ([InvitationState(1, LATER, revoked=True), InvitationState(2, LATER, inviter_may_invite=False)],
     "auth.sso.invitation_revoked"),
    ([InvitationState(1, LATER, inviter_may_invite=False)], "auth.sso.invitation_void"),
])
def test_the_refusal_names_what_happened_to_the_invitation(states, key) -> None:
    usable, refusal = choose_invitations(states, now=NOW)
    assert usable == frozenset() and refusal == key


def test_user_names_come_from_the_local_part_and_never_collide() -> None:
    taken = {"x", "x-2", "jiwon.lee"}
    assert username_for_email("x@hospital.example", taken.__contains__) == "x-3"
    assert username_for_email("jiwon.lee@other.example", taken.__contains__) == "jiwon.lee-2"
    assert username_for_email("kim soo+ward 7@hospital.example", taken.__contains__) == "kim-soo-ward-7"
    assert username_for_email("김수@hospital.example", taken.__contains__) == "김수"  # a Korean local part stays
    assert username_for_email("김수.ＫＩＭ@hospital.example", taken.__contains__) == "김수.kim"  # full-width folded
    assert username_for_email("аdmin@hospital.example", taken.__contains__) == "dmin"  # a Cyrillic look-alike is dropped
    assert username_for_email("ᄀ@hospital.example", taken.__contains__) == "user"  # a lone jamo is no syllable
    assert len(username_for_email("a" * 300 + "@hospital.example", taken.__contains__)) == 100


@pytest.mark.parametrize(("email", "ok"), [
    ("x@hospital.example", True),
    ("first.last+tag@sub.hospital.example", True),
    ("x@localhost", False),
    ("x@@hospital.example", False),
    ("x y@hospital.example", False),
    ("hospital.example", False),
    ("", False),
    ("x@" + "h" * 320 + ".example", False),
    ("[click](https://evil.example)@hospital.example", False),
    ("x@xn--9t4b11yi5a.example", True),
])
def test_addresses_are_checked_before_an_invitation_is_stored(email, ok) -> None:
    assert valid_email(email) is ok
