"""Mapping a single-sign-on identity (OIDC claims, e.g. Streamlit's ``st.user``) to a local account.

Single sign-on only proves who someone is; what they may do still comes from the local account
and its memberships. The mapping is strict because a wrong match hands one person another's
patients: the e-mail must be verified by the identity provider, must belong to exactly one local
account, and once an account is linked to a provider subject (``iss`` + ``sub``) it is matched by
that subject only, so an e-mail address re-assigned at the hospital cannot take over an account.

The one way a claim leads to a new account is an owner's invitation of that verified e-mail
address (:func:`choose_invitations`): the rights still come from the owner, never from the claims.

Signing out of a session opened through the provider also ends the provider's session (OpenID
Connect RP-Initiated Logout 1.0, :func:`end_session_url`), or the next person at a shared
workstation would be signed in as the last one without typing a password.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipelines.errors import PermissionDenied

__all__ = [
    "SsoIdentity",
    "SsoAccount",
    "SsoMatch",
    "InvitationState",
    "identity_from_claims",
    "match_sso_account",
    "normalise_email",
    "valid_email",
    "choose_invitations",
    "username_for_email",
    "app_address",
    "end_session_url",
]


def normalise_email(email: str) -> str:
    """Trimmed and case-folded: providers and people disagree about case, never about meaning."""
    return email.strip().casefold()


_EMAIL = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")


def valid_email(email: str) -> bool:
    """A plain address, already normalised: the usual local-part characters, one @, a dotted domain
    (IDN domains in their ``xn--`` form), at most 320 characters. Nothing that reads as markup."""
    return len(email) <= 320 and _EMAIL.fullmatch(email) is not None


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


@dataclass(frozen=True)
class InvitationState:
    """One not yet redeemed invitation of an e-mail address, as the chooser needs it.

    ``inviter_may_invite`` is whether the inviting account may still invite into that project now
    (active, still its owner, project not archived): an invitation is only as good as its inviter.
    """

    id: int
    valid_until: datetime
    membership_expires_at: datetime | None = None
    revoked: bool = False
    inviter_may_invite: bool = True


def choose_invitations(invitations: Iterable[InvitationState], *, now: datetime) -> tuple[frozenset[int], str]:
    """The invitations that may be redeemed now, and the refusal key to give when there are none.

    The key says what happened to the best candidate, so the person knows whom to ask: an expired
    invitation before a revoked one before one whose inviter lost the right, else no account.
    """
    expired = revoked = void = False
    usable: set[int] = set()
    for item in invitations:
        if item.revoked:
            revoked = True
        elif now >= item.valid_until or (item.membership_expires_at is not None and now >= item.membership_expires_at):
            expired = True
        elif not item.inviter_may_invite:
            void = True
        else:
            usable.add(item.id)
    if expired:
        key = "auth.sso.invitation_expired"
    elif revoked:
        key = "auth.sso.invitation_revoked"
    elif void:
        key = "auth.sso.invitation_void"
    else:
        key = "auth.sso.no_account"
    return frozenset(usable), key


def username_for_email(email: str, taken: Callable[[str], bool]) -> str:
    """A user name for an account made from an invitation: the address's local part, made unique.

    Latin letters, digits, Hangul syllables, ``.``, ``_`` and ``-`` only (no spaces, as local user
    names; no other scripts, whose look-alike letters could pass for another person's name in the
    audit log), at most 100 characters, then ``-2``, ``-3``... while ``taken`` says the name is in use;
    ``user`` when nothing is left.
    """
    local = unicodedata.normalize("NFKC", email.split("@", 1)[0]).casefold()
    base = re.sub(r"[^a-z0-9._\uac00-\ud7a3-]+", "-", local).strip("-.")[:100] or "user"
    name, number = base, 1
    while taken(name):
        number += 1
        name = f"{base}-{number}"
    return name


_CALLBACK = "oauth2callback"


def app_address(redirect_uri: str) -> str | None:
    """The workbench's own address, from the configured redirect URI (``https://host/base/oauth2callback``
    -> ``https://host/base/``): where the provider sends the browser after its sign-out. Derived from
    configuration, never from a request header someone else controls; None for anything but an
    absolute http(s) address ending in ``/oauth2callback``."""
    parts = urlsplit(redirect_uri.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.endswith("/" + _CALLBACK):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[:-len(_CALLBACK)], "", ""))


def end_session_url(endpoint: str, *, client_id: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's ``end_session_endpoint`` with ``client_id`` and ``post_logout_redirect_uri``.

    No ``id_token_hint``: the ID token is not kept (Streamlit's identity cookie, which holds it, is
    dropped once the workbench session is open), and the specification accepts ``client_id`` in its
    place. Parameters already in the endpoint's address are kept. None for an endpoint that is not an
    absolute http(s) address (a discovery document is trusted for its provider, not for ``javascript:``).
    """
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("client_id", "post_logout_redirect_uri", "id_token_hint")]
    query += [("client_id", client_id), ("post_logout_redirect_uri", post_logout_redirect_uri)]
    address = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    return address if address.isascii() and not any(c in address for c in "\r\n ") else None  # it becomes a header
