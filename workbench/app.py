"""The Streamlit entry: resolves the signed-in user, then builds navigation from what they may do.

Run by ``workbench serve`` (``streamlit run`` on this file). Streamlit is imported only here and in
``pages/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# When Streamlit runs this file as a script, make the project importable from a source checkout.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # pragma: no cover - only outside an installed package
    sys.path.insert(0, str(_ROOT))

from pages import _shell  # noqa: E402
from workbench.context import open_workbench  # noqa: E402


@st.cache_resource(show_spinner=False)
def _workbench():
    """One per server process: engine, artifact store and job queue. Holds no patient data."""
    from workbench.serving import attach_job_queue

    return attach_job_queue(open_workbench())


def main() -> None:
    st.set_page_config(page_title="Clinical ML Workbench", page_icon="🩺", layout="wide")
    _shell.run_app(_workbench())


# Streamlit runs this file as ``__main__`` on every rerun. A process that multiprocessing spawns
# from one that has run it (a Dask worker process started after a script run, as AppTest does in the
# test suite) imports it again as ``__mp_main__``: that import must not open a workbench (the
# default data folder of the worker's working directory) or run a page.
if __name__ == "__main__":
    main()
