"""A tiny OpenID Connect provider on loopback, for single sign-on tests with a real browser.

It speaks just enough of the protocol for Streamlit's ``st.login`` (Authlib) to run the whole
authorization-code flow: a discovery document, an authorize endpoint that approves the configured
person at once while the provider's session is open (a shared workstation where someone already
signed in), a token endpoint that checks the client secret, the redirect URI and the PKCE verifier
and returns an RS256-signed ID token, and the JWKS with the public key.

RP-Initiated Logout: ``end_session_endpoint`` (``/logout``) records each call in ``logouts``,
closes the provider's session and sends the browser to ``post_logout_redirect_uri``. From then on
the authorize endpoint answers 401 with a login page ("Test provider: sign in") instead of
approving; its "Sign in" button (standing for typing a password) opens the session again for
whoever ``person`` is then. ``end_session=False`` leaves the endpoint out of the discovery document.
Signing uses ``joserfc`` (the JOSE library Authlib now delegates to; ``authlib.jose`` is
deprecated). Nothing here is mocked: the app fetches these endpoints over HTTP like a hospital's
provider.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

__all__ = ["OidcProvider"]


class OidcProvider:
    """``with OidcProvider(client_id=..., client_secret=...) as idp:`` then set ``idp.person``."""

    def __init__(self, *, client_id: str, client_secret: str, end_session: bool = True) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.person: dict[str, Any] = {}
        self.token_requests = 0
        self.discovery_requests = 0
        self.end_session = end_session
        self.signed_in = True  # the provider's own session (one browser in these tests)
        self.logouts: list[dict[str, str]] = []
        self.login_pages = 0  # times authorize asked for credentials instead of approving
        self._codes: dict[str, dict[str, Any]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---------------------------------------------------------------- protocol

    def discovery(self) -> dict[str, Any]:
        logout = {"end_session_endpoint": self.issuer + "/logout"} if self.end_session else {}
        return {
            **logout,
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "email", "email_verified", "name"],
        }

    def authorize(self, query: dict[str, str]) -> str | None:
        """The redirect back to the app, approving ``person`` without asking; None (ask for
        credentials) while the provider's session is closed."""
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            raise ValueError("unknown client or response type")
        if not self.signed_in:
            self.login_pages += 1
            return None
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query.get("nonce"),
                             "challenge": query.get("code_challenge"), "person": dict(self.person)}
        return query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        self.token_requests += 1
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            raise PermissionError("invalid_client")
        grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            raise PermissionError("invalid_grant")
        if grant["challenge"]:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                raise PermissionError("invalid_grant")
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300, **grant["person"]}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        return {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

    def logout(self, query: dict[str, str]) -> str:
        """End the provider's session; the address to send the browser back to."""
        if query.get("client_id") != self.client_id or not query.get("post_logout_redirect_uri"):
            raise ValueError("unknown client or no return address")
        self.logouts.append(dict(query))
        self.signed_in = False
        return query["post_logout_redirect_uri"]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # ---------------------------------------------------------------- HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    provider.discovery_requests += 1
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, provider.jwks())
                elif url.path in ("/authorize", "/logout"):
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    try:
                        location = (provider.authorize if url.path == "/authorize" else provider.logout)(query)
                    except (ValueError, KeyError):
                        self._json(400, {"error": "invalid_request"})
                        return
                    if location is None:
                        self._login_page(url.query)
                        return
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def _login_page(self, query: str) -> None:
                # The provider asks who is there; the button stands for typing a password.
                page = ("<!doctype html><title>Test provider</title><h1>Test provider: sign in</h1>"
                        "<form method='post' action='/login'><input type='hidden' name='query' value='"
                        + html.escape(query, quote=True) + "'><button type='submit'>Sign in</button></form>").encode()
                self.send_response(401)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path == "/login":
                    length = int(self.headers.get("Content-Length") or 0)
                    form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                    provider.signed_in = True
                    self.send_response(303)
                    self.send_header("Location", "/authorize?" + form.get("query", ""))
                    self.end_headers()
                    return
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                try:
                    self._json(200, provider.token(form, self.headers.get("Authorization")))
                except PermissionError as error:
                    self._json(400, {"error": str(error)})

        return Handler
