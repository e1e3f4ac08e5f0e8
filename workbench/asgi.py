"""The server entry of ``workbench serve``: Streamlit's ASGI app around ``app.py`` plus the cookie routes.

``streamlit run`` finds the ``st.App`` below and serves it with uvicorn. The extra routes and the
middleware (``workbench.browser_session``) let a sign-in survive a reload through an HttpOnly
cookie; everything else is Streamlit as usual. A bare ``streamlit run workbench/app.py`` still
works, with sign-in kept in session state only (as before).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # pragma: no cover - only outside an installed package
    sys.path.insert(0, str(_ROOT))

from workbench import browser_session  # noqa: E402

# The app's modules (services, evaluation, model storage: about 5 s of imports, 14 s from a cold
# disk) load now, while the server starts, instead of in the first visitor's first page.
import pages._shell  # noqa: E402, F401

browser_session.enable()
app = st.App(str(Path(__file__).with_name("app.py")), routes=browser_session.routes(),
             middleware=browser_session.middleware())
