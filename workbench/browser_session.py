"""The browser's half of a signed-in session: an HttpOnly cookie, set by a small server route.

Streamlit keeps session state per websocket connection, and a reload (F5) opens a new one, so a
token kept only in session state signs the user out. A script cannot set a cookie
(``st.context.cookies`` is read-only), and the usual workaround, a component that writes
``document.cookie``, leaves the token readable by any script on the page. Streamlit's ASGI entry
(``st.App``, which ``workbench serve`` runs) accepts extra routes, so the server sets the cookie:

1. after a sign-in the signed-in page posts a one-time code (single use, 60 s, kept in this
   process's memory, never in a URL) to ``/wb/session`` in the background (``fetch``; the page
   is not reloaded, so the sign-in costs one script run, not a second load of the whole app);
2. the route answers with the session token in a cookie that is HttpOnly (no page script can
   read it), SameSite=Strict, Secure when the request came over TLS, and without an expiry date
   (it ends with the browser), and no content;
3. every later connection presents the cookie; the shell reads it with ``st.context.cookies``.

The server-side session stays the authority: idle and absolute expiry and sign-out are decided in
the database at every rerun, whatever the browser keeps. The same response deletes Streamlit's
own identity cookie (set after single sign-on, valid for 30 days), so a provider identity is used
once to open a workbench session and cannot quietly open another after that session has ended.
Sign-out goes through Streamlit's ``/auth/logout``; :class:`ClearOnLogout` deletes the workbench
cookie on that response too. For a session opened through single sign-on the page first registers
the provider's end-session address (:data:`PROVIDER_LOGOUTS`, under the session token's digest,
60 s, once); that response then sends the browser to the provider instead of home, so the
provider's session ends with the workbench's (OpenID Connect RP-Initiated Logout). The address
comes from the server (``accounts.sign_out``), keyed by a cookie only this browser holds: nothing
in the request chooses where it goes.

Only Starlette is imported here; ``workbench/asgi.py`` mounts the routes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from permissions.sessions import token_digest

__all__ = [
    "COOKIE",
    "ESTABLISH_PATH",
    "FORGET_IDENTITY_PATH",
    "IDENTITY_COOKIES",
    "HandoffCodes",
    "HANDOFF",
    "ProviderLogouts",
    "PROVIDER_LOGOUTS",
    "ClearOnLogout",
    "enable",
    "enabled",
    "routes",
    "middleware",
    "establish_script",
    "forget_identity_script",
]

COOKIE = "wb_session"
ESTABLISH_PATH = "/wb/session"
FORGET_IDENTITY_PATH = "/wb/identity/forget"
LOGOUT_PATH = "/auth/logout"  # Streamlit's own sign-out route (st.logout sends the browser there)
# Streamlit's identity cookie after st.login and its token companion (each may be split in _1, _2...).
IDENTITY_COOKIES = ("_streamlit_user", "_streamlit_user_tokens")
HANDOFF_SECONDS = 60.0
_MAX_PENDING = 10_000

_enabled = False


def enable() -> None:
    """Called by the ASGI entry: the routes exist, so pages may hand sessions to the browser."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


class _Pending:
    """Values kept in this process's memory for a short while, each taken at most once."""

    def __init__(self, *, ttl_seconds: float = HANDOFF_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl_seconds, clock
        self._pending: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _put(self, key: str, value: str) -> None:
        with self._lock:
            now = self._clock()
            for stale in [c for c, (_, until) in self._pending.items() if until <= now]:
                del self._pending[stale]
            if len(self._pending) >= _MAX_PENDING:  # a flood of requests nobody completes
                self._pending.pop(next(iter(self._pending)))
            self._pending[key] = (value, now + self._ttl)

    def _take(self, key: str) -> str | None:
        with self._lock:
            found = self._pending.pop(key, None)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]


class HandoffCodes(_Pending):
    """One-time codes that stand for a session token between the script and the cookie route."""

    def issue(self, token: str) -> str:
        code = secrets.token_urlsafe(32)
        self._put(code, token)
        return code

    def redeem(self, code: str) -> str | None:
        """The token, once; None for an unknown, used or expired code."""
        return self._take(code)

    def pending(self, code: str) -> bool:
        """Whether ``code`` can still be redeemed (issued, not used, not expired)."""
        with self._lock:
            found = self._pending.get(code)
        return found is not None and found[1] > self._clock()


class ProviderLogouts(_Pending):
    """The identity provider's end-session address for a session being signed out, by token digest."""

    def expect(self, token: str | None, address: str | None) -> None:
        """Before ``st.logout()``: the next ``/auth/logout`` with this session's cookie goes to ``address``."""
        if token and address:
            self._put(token_digest(token), address)

    def take(self, token: str | None) -> str | None:
        return self._take(token_digest(token)) if token else None


HANDOFF = HandoffCodes()
PROVIDER_LOGOUTS = ProviderLogouts()


def _same_origin(request: Any) -> bool:
    """Refuse cross-site posts (login CSRF): the browser must say the post came from this origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.headers.get("host")


def _over_tls(request: Any) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _forget_identity(request: Any, response: Any) -> None:
    for name in request.cookies:
        if any(name == base or name.startswith(base + "_") for base in IDENTITY_COOKIES):
            response.delete_cookie(name, path="/")


async def _establish(request: Any) -> Any:
    from starlette.responses import PlainTextResponse, Response

    if not _same_origin(request):
        return PlainTextResponse("Refused: this sign-in did not come from the workbench page.", status_code=403)
    form = await request.form()
    token = HANDOFF.redeem(str(form.get("code") or ""))
    response = Response(status_code=204)
    if token is not None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=_over_tls(request), path="/")
        _forget_identity(request, response)
    return response


async def _forget(request: Any) -> Any:
    from starlette.responses import Response

    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204)
    _forget_identity(request, response)
    return response


class ClearOnLogout:
    """ASGI middleware: Streamlit's ``/auth/logout`` response also deletes the workbench cookie, and
    goes to the identity provider's end-session address when the page registered one for this session."""

    _HEADER = (b"set-cookie", f"{COOKIE}=\"\"; Max-Age=0; Path=/; HttpOnly; SameSite=strict".encode())

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not str(scope.get("path", "")).endswith(LOGOUT_PATH):
            await self.app(scope, receive, send)
            return

        from starlette.requests import HTTPConnection

        provider = PROVIDER_LOGOUTS.take(HTTPConnection(scope).cookies.get(COOKIE))

        async def send_clearing(message: dict) -> None:
            if message.get("type") == "http.response.start":
                headers = [*message.get("headers", []), self._HEADER]
                if provider is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != b"location"]
                    headers.append((b"location", provider.encode("latin-1")))
                    message = {**message, "status": 302}
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_clearing)


def routes() -> list:
    from starlette.routing import Route

    return [Route(ESTABLISH_PATH, _establish, methods=["POST"]), Route(FORGET_IDENTITY_PATH, _forget, methods=["POST"])]


def middleware() -> list:
    from starlette.middleware import Middleware

    return [Middleware(ClearOnLogout)]


def establish_script(code: str) -> str:
    """The page snippet that posts ``code`` to the cookie route in the background (same-origin
    ``fetch``: the response's cookie is stored, the page stays). ``code`` is ours (URL-safe base64),
    never user input."""
    return (f"<script>fetch({json.dumps(ESTABLISH_PATH)},{{method:'POST',credentials:'same-origin',"
            f"body:new URLSearchParams({{code:{json.dumps(code)}}})}});</script>")


def forget_identity_script() -> str:
    """The page snippet that drops Streamlit's identity cookie without leaving the page (after a refusal)."""
    return f"<script>fetch({json.dumps(FORGET_IDENTITY_PATH)},{{method:'POST',credentials:'same-origin'}});</script>"
