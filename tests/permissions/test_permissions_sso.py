from __future__ import annotations

import pytest

from permissions.sso import SsoAccount, SsoIdentity, SsoMatch, identity_from_claims, match_sso_account
from pipelines.errors import PermissionDenied

CLAIMS = {
    "is_logged_in": True,
    "iss": "https://login.hospital.example",
    "sub": "8f2c-11",
    "email": "  J.Lee@Hospital.Example ",
    "email_verified": True,
}


def _denied(call) -> PermissionDenied:
    with pytest.raises(PermissionDenied) as info:
        call()
    return info.value


def test_claims_become_an_identity_with_a_normalised_email() -> None:
    identity = identity_from_claims(CLAIMS)
    assert identity == SsoIdentity("https://login.hospital.example", "8f2c-11", "j.lee@hospital.example")
    assert identity.key == "https://login.hospital.example#8f2c-11"
    assert identity_from_claims({**CLAIMS, "email_verified": "true"}).email == "j.lee@hospital.example"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"email_verified": False}, "auth.sso.email_unverified"),
        ({"email_verified": None}, "auth.sso.email_unverified"),
        ({"email_verified": 1}, "auth.sso.email_unverified"),
        ({"email_verified": "yes please"}, "auth.sso.email_unverified"),
        ({"email": ""}, "auth.sso.incomplete_claims"),
        ({"sub": ""}, "auth.sso.incomplete_claims"),
        ({"iss": None}, "auth.sso.incomplete_claims"),
        ({"is_logged_in": False}, "auth.sso.not_signed_in"),
    ],
)
def test_untrustworthy_claims_are_refused(change: dict, key: str) -> None:
    assert _denied(lambda: identity_from_claims({**CLAIMS, **change})).key == key


def test_first_sign_in_matches_by_verified_email_and_asks_to_link() -> None:
    identity = identity_from_claims(CLAIMS)
    accounts = [SsoAccount(1, "admin@hospital.example"), SsoAccount(2, "J.LEE@hospital.example")]
    assert match_sso_account(identity, accounts) == SsoMatch(2, link=True)


def test_linked_account_is_matched_by_subject_even_after_an_email_change() -> None:
    identity = identity_from_claims({**CLAIMS, "email": "jlee.new@hospital.example"})
    accounts = [SsoAccount(2, "j.lee@hospital.example", sso_key=identity.key)]
    assert match_sso_account(identity, accounts) == SsoMatch(2, link=False)


def test_reassigned_email_cannot_take_over_a_linked_account() -> None:
    newcomer = identity_from_claims({**CLAIMS, "sub": "new-person"})
    accounts = [SsoAccount(2, "j.lee@hospital.example", sso_key="https://login.hospital.example#8f2c-11")]
    error = _denied(lambda: match_sso_account(newcomer, accounts))
    assert (error.key, error.params) == ("auth.sso.linked_elsewhere", {"email": "j.lee@hospital.example"})


def test_no_account_duplicates_and_deactivated_accounts_are_refused() -> None:
    identity = identity_from_claims(CLAIMS)
    assert _denied(lambda: match_sso_account(identity, [SsoAccount(1, None)])).key == "auth.sso.no_account"
    twins = [SsoAccount(1, "j.lee@hospital.example"), SsoAccount(2, "J.Lee@hospital.example")]
    assert _denied(lambda: match_sso_account(identity, twins)).key == "auth.sso.ambiguous"
    gone = [SsoAccount(3, "j.lee@hospital.example", active=False)]
    assert _denied(lambda: match_sso_account(identity, gone)).key == "auth.denied.deactivated"
    gone_linked = [SsoAccount(3, "x@y.example", active=False, sso_key=identity.key)]
    assert _denied(lambda: match_sso_account(identity, gone_linked)).key == "auth.denied.deactivated"
