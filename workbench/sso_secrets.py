"""Streamlit's ``[auth]`` secrets, written from the workbench's ``sso_*`` settings by ``workbench serve``.

Streamlit's OIDC support (``st.login``, Authlib) reads its provider from a ``secrets.toml`` file:
``[auth]`` with ``redirect_uri``, ``cookie_secret``, ``client_id``, ``client_secret`` and
``server_metadata_url`` (the unnamed default provider). Programmatic secrets are not enough: the
auth routes look for a file. So the settings stay the one place an administrator configures, and
``serve`` writes the file into the data folder (mode 0600, replaced at every start, deleted when
single sign-on is off) and points Streamlit at it with ``--secrets.files``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError
from workbench.settings import ENV_PREFIX, Settings

__all__ = ["auth_section", "write_secrets_file", "secrets_path"]

_REQUIRED = ("sso_client_id", "sso_client_secret")


def secrets_path(settings: Settings) -> Path:
    return settings.data_path / "streamlit" / "secrets.toml"


def auth_section(settings: Settings, *, address: str, port: int) -> dict[str, Any] | None:
    """The ``[auth]`` table for these settings; None when single sign-on is off."""
    if not settings.sso_enabled:
        return None
    missing = [ENV_PREFIX + name.upper() for name in _REQUIRED if not settings.values[name]]
    if missing:
        raise ConfigError("auth.sso.incomplete_settings", missing=missing)
    host = "localhost" if address in ("0.0.0.0", "::", "") else address
    redirect = settings.sso_redirect_uri or f"http://{host}:{port}/oauth2callback"
    if not redirect.rstrip().endswith("/oauth2callback"):
        raise ConfigError("auth.sso.bad_redirect_uri", uri=redirect)
    return {
        "redirect_uri": redirect.strip(),
        # Signs Streamlit's identity cookie, which lives only until the workbench session is opened.
        "cookie_secret": settings.sso_cookie_secret or secrets.token_urlsafe(32),
        "client_id": settings.sso_client_id,
        "client_secret": settings.sso_client_secret,
        "server_metadata_url": settings.sso_server_metadata_url,
    }


def write_secrets_file(settings: Settings, *, address: str, port: int) -> Path | None:
    """Write (or, with SSO off, delete) the secrets file; its path for ``--secrets.files``."""
    path = secrets_path(settings)
    section = auth_section(settings, address=address, port=port)
    if section is None:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    # JSON string escapes are valid TOML basic-string escapes.
    text = "[auth]\n" + "".join(f"{key} = {json.dumps(str(value))}\n" for key, value in section.items())
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)
    return path
