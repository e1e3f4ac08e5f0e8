"""Where the browser goes after signing out of a session opened through single sign-on.

OpenID Connect RP-Initiated Logout 1.0: the provider advertises an ``end_session_endpoint`` in its
discovery document (the configured ``sso_server_metadata_url``); sending the browser there ends
the provider's own session, so the next person at a shared workstation who clicks "Sign in with
..." is asked for a password instead of being signed in as the last one. The document is fetched
once per process and kept (a failed fetch is not kept: the next sign-out tries again). A provider
that advertises no endpoint, or whose issuer is not the one the session was opened with, gets
today's behaviour: the workbench signs out alone.

The address the provider sends the browser back to is the workbench's own, taken from the
configured redirect URI (``sso_redirect_uri``, else the ``[auth]`` secrets ``workbench serve``
wrote), never from a request header.
"""

from __future__ import annotations

import json
import logging
import threading
import tomllib
import urllib.request
from typing import Any

from permissions.sso import app_address, end_session_url
from workbench.settings import Settings
from workbench.sso_secrets import secrets_path

__all__ = ["provider_logout_url", "discovery", "forget_discovery"]

log = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 5.0
_MAX_BYTES = 1 << 20  # a discovery document is a few kilobytes
_cache: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def discovery(metadata_url: str) -> dict[str, Any] | None:
    """The provider's discovery document, fetched once per process; None when it cannot be read."""
    with _lock:
        if metadata_url in _cache:
            return _cache[metadata_url]
    try:
        request = urllib.request.Request(metadata_url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310 (configured URL)
            document = json.loads(response.read(_MAX_BYTES))
    except (OSError, ValueError) as error:
        log.warning("single sign-on: could not read the discovery document at %s: %s", metadata_url, error)
        return None
    if not isinstance(document, dict):
        log.warning("single sign-on: the discovery document at %s is not a JSON object", metadata_url)
        return None
    with _lock:
        _cache[metadata_url] = document
    return document


def forget_discovery() -> None:
    """Drop the kept documents (tests; a changed provider is otherwise picked up at the next start)."""
    with _lock:
        _cache.clear()


def _redirect_uri(settings: Settings) -> str:
    if settings.sso_redirect_uri:
        return settings.sso_redirect_uri
    try:  # the default (http://localhost:<port>/oauth2callback) is known only to `workbench serve`
        with secrets_path(settings).open("rb") as handle:
            return str(tomllib.load(handle).get("auth", {}).get("redirect_uri") or "")
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def provider_logout_url(settings: Settings, *, issuer: str) -> str | None:
    """The provider's end-session address for a session opened through ``issuer``; None for the
    workbench's own sign-out only (single sign-on off, no endpoint, another provider, no address)."""
    if not settings.sso_enabled or not issuer:
        return None
    document = discovery(settings.sso_server_metadata_url)
    if document is None or str(document.get("issuer") or "") != issuer:
        return None
    endpoint = document.get("end_session_endpoint")
    home = app_address(_redirect_uri(settings))
    if not isinstance(endpoint, str) or not endpoint or home is None:
        return None
    return end_session_url(endpoint, client_id=settings.sso_client_id, post_logout_redirect_uri=home)
