"""The running workbench: settings, database engine and artifact store, opened once per process.

Pages get it from the app entry (a process-wide resource holding no patient data); Dask workers get
their own from the settings the job was submitted with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from workbench.artifacts import ArtifactStore
from workbench.db.engine import make_engine
from workbench.db.migrate import upgrade
from workbench.settings import Settings, default_settings, load_settings

__all__ = ["Workbench", "open_workbench", "worker_workbench"]


@dataclass
class Workbench:
    settings: Settings
    engine: Engine
    store: ArtifactStore
    created_database: bool = False
    jobs: Any = None  # a workbench.jobs.JobQueue in the web server process
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def data_path(self) -> Path:
        return self.settings.data_path


def open_workbench(settings: Settings | None = None) -> Workbench:
    """Open (and on first use create) the data folder, the database schema and the artifact store."""
    settings = settings or load_settings()
    data_path = settings.data_path
    data_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    created = upgrade(engine)
    store = ArtifactStore(data_path / "artifacts")
    return Workbench(settings=settings, engine=engine, store=store, created_database=created)


_WORKER_CACHE: dict[tuple[str, str], Workbench] = {}
_WORKER_LOCK = threading.Lock()


def worker_workbench(values: dict) -> Workbench:
    """The workbench a Dask worker uses for jobs submitted with these settings (one per process)."""
    settings = default_settings(**values)
    key = (settings.resolved_database_url, str(settings.data_path))
    with _WORKER_LOCK:
        if key not in _WORKER_CACHE:
            engine = make_engine(settings.resolved_database_url)
            _WORKER_CACHE[key] = Workbench(settings=settings, engine=engine, store=ArtifactStore(settings.data_path / "artifacts"))
        return _WORKER_CACHE[key]
