"""Mapping a single-sign-on identity (OIDC claims, e.g. Streamlit's ``st.user``) to a local account.

Single sign-on only proves who someone is; what they may do still comes from the local account
and its memberships. The mapping is strict because a wrong match hands one person another's
patients: the e-mail must be verified by the identity provider, must belong to exactly one local
account, and once an account is linked to a provider subject (``iss`` + ``sub``) it is matched by
that subject only, so an e-mail address re-assigned at the hospital cannot take over an account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.errors import PermissionDenied

__all__ = ["SsoIdentity", "SsoAccount", "SsoMatch", "identity_from_claims", "match_sso_account", "normalise_email"]


def normalise_email(email: str) -> str:
    """Trimmed and case-folded: providers and people disagree about case, never about meaning."""
    return email.strip().casefold()


@dataclass(frozen=True)
class SsoIdentity:
    """The claims that matter, already checked: issuer, subject and a verified e-mail."""

    issuer: str
    subject: str
    email: str

    @property
    def key(self) -> str:
        """What a linked account stores: unique across providers."""
        return f"{self.issuer}#{self.subject}"


@dataclass(frozen=True)
class SsoAccount:
    """A local account as the matcher needs it; ``sso_key`` is set once the account is linked."""

    user_id: int
    email: str | None
    active: bool = True
    sso_key: str | None = None


@dataclass(frozen=True)
class SsoMatch:
    """The account to sign in; ``link`` asks the caller to store ``identity.key`` on it now."""

    user_id: int
    link: bool


def _verified(value: Any) -> bool:
    # Some providers send the claim as the string "true"; anything else is not a verification.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def identity_from_claims(claims: Mapping[str, Any]) -> SsoIdentity:
    """Check the OIDC claims; raises ``PermissionDenied("auth.sso.*")`` when they cannot be trusted."""
    if not claims.get("is_logged_in", True):
        raise PermissionDenied("auth.sso.not_signed_in")
    issuer, subject = str(claims.get("iss") or "").strip(), str(claims.get("sub") or "").strip()
    email = normalise_email(str(claims.get("email") or ""))
    if not issuer or not subject or "@" not in email:
        raise PermissionDenied("auth.sso.incomplete_claims")
    if not _verified(claims.get("email_verified")):
        raise PermissionDenied("auth.sso.email_unverified", email=email)
    return SsoIdentity(issuer, subject, email)


def match_sso_account(identity: SsoIdentity, accounts: Iterable[SsoAccount]) -> SsoMatch:
    """The one local account for ``identity``; raises ``PermissionDenied`` when there is none or doubt.

    ``accounts`` may be every account, or only those with this e-mail or this ``sso_key``.
    """
    candidates = list(accounts)
    linked = [a for a in candidates if a.sso_key == identity.key]
    if len(linked) > 1:
        raise PermissionDenied("auth.sso.ambiguous", email=identity.email)
    if linked:
        account, link = linked[0], False
    else:
        same_email = [a for a in candidates if a.email and normalise_email(a.email) == identity.email]
        if not same_email:
            raise PermissionDenied("auth.sso.no_account", email=identity.email)
        if len(same_email) > 1:
            raise PermissionDenied("auth.sso.ambiguous", email=identity.email)
        account, link = same_email[0], True
        if account.sso_key is not None:
            # Linked to another sign-in already: the address moved to someone else, or a second
            # provider claims it. Either way a person must decide, not the matcher.
            raise PermissionDenied("auth.sso.linked_elsewhere", email=identity.email)
    if not account.active:
        raise PermissionDenied("auth.denied.deactivated")
    return SsoMatch(account.user_id, link)
