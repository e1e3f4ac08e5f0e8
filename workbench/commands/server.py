"""`workbench serve`, `workbench init`, `workbench settings`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["register"]

APP = Path(__file__).resolve().parents[1] / "asgi.py"  # st.App around app.py, with the session-cookie routes
_SWEEP_SECONDS = 30


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="start the web app (and a local Dask cluster)")
    serve.add_argument("--port", type=int, help="port of the web server (default: WORKBENCH_PORT or 8501)")
    serve.add_argument("--address", help="interface to listen on (default: WORKBENCH_ADDRESS or 127.0.0.1)")
    serve.set_defaults(run=lambda args: _serve(port=args.port, address=args.address))

    init = commands.add_parser("init", help="create the data folder, database, first admin and demo project, then exit")
    init.set_defaults(run=lambda args: (_open_and_bootstrap(), 0)[1])

    show = commands.add_parser("settings", help="print every setting and where its value came from")
    show.add_argument("--markdown", action="store_true", help="print the README's settings table")
    show.set_defaults(run=lambda args: _settings(markdown=args.markdown))


def _settings(*, markdown: bool) -> int:
    from workbench.settings import SETTINGS, load_settings, settings_markdown

    if markdown:
        print(settings_markdown())
        return 0
    resolved = load_settings()
    for setting in SETTINGS:
        value = "********" if setting.secret and resolved.values[setting.name] else resolved.values[setting.name]
        print(f"{setting.name:28} {value!s:40} ({resolved.source[setting.name]})")
    return 0


def _open_and_bootstrap():
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench

    workbench = open_workbench()
    removed = workbench.store.clean_partial()
    if removed:
        print(f"Removed {removed} partial file(s) left by an interrupted write.")
    started = first_start(workbench)
    print(f"Data folder: {workbench.data_path}")
    if started.admin_username:
        print(f"Created the first admin account: {started.admin_username}")
        if started.generated_password:
            bar = "=" * 72
            print(f"{bar}\n  Admin password (shown only this once, store it now):\n\n    {started.generated_password}\n\n"
                  f"  Set WORKBENCH_ADMIN_PASSWORD before the first start to choose it yourself.\n{bar}", flush=True)
    if started.demo_project_id:
        print(f"Created the demo project (id {started.demo_project_id}) with the heart failure dataset.")
    return workbench


def _serve(*, port: int | None, address: str | None) -> int:
    from workbench.jobs import fail_interrupted_jobs, sweep_stale_jobs

    workbench = _open_and_bootstrap()
    settings = workbench.settings
    port = port or settings.port
    address = address or settings.address

    from workbench.sso_secrets import write_secrets_file

    secrets_file = write_secrets_file(settings, address=address, port=port)  # None: single sign-on is off

    cluster = None
    scheduler = settings.dask_scheduler
    if scheduler:
        print(f"Jobs run on the Dask cluster at {scheduler}.")
        sweep_stale_jobs(workbench)
    else:
        failed = fail_interrupted_jobs(workbench)
        if failed:
            print(f"Marked {len(failed)} job(s) interrupted by the last shutdown as failed: {failed}")
        from workbench.services._validation_store import settle_orphans

        settle_orphans(workbench)  # their staged cohorts are discarded now, not when someone looks
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=settings.dask_workers, threads_per_worker=settings.dask_threads_per_worker,
                               processes=True, dashboard_address=None, host="127.0.0.1")
        scheduler = cluster.scheduler_address
        from workbench.jobs.priority import WORKER_NICENESS, lower_worker_priority

        lower_worker_priority(scheduler)
        print(f"Started a local Dask cluster at {scheduler} ({settings.dask_workers} worker process(es), "
              f"niceness +{WORKER_NICENESS}).")

    env = dict(os.environ, WORKBENCH_DASK_SCHEDULER=scheduler, WORKBENCH_DATA_DIR=str(workbench.data_path))
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port), "--server.address", address, "--server.headless", "true",
        "--server.maxUploadSize", str(settings.max_upload_mb), "--server.enableXsrfProtection", "true",
        "--server.enableCORS", "true",  # on the command line, so no config.toml can switch either off
        "--client.showErrorDetails", "false", "--client.toolbarMode", "minimal",
        # no table's own "Download as CSV": exports go through the audited, permission-checked services
        "--client.disableDataExport", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--theme.base", "light",
        # Streamlit's full gc.collect() after every script run holds the interpreter lock against
        # every other person's page (a quarter of the page scripts' time in benchmarks/load.py with
        # five people on it); Python's own generational collection still runs.
        "--runner.postScriptGC", "false",
        *(["--secrets.files", str(secrets_file)] if secrets_file else []),
    ]
    server = subprocess.Popen(command, env=env)
    print(f"Clinical ML Workbench is starting at http://{address}:{port}", flush=True)

    stopping = False

    def _stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    last_sweep = time.monotonic()
    try:
        while not stopping and server.poll() is None:
            time.sleep(0.5)
            if time.monotonic() - last_sweep > _SWEEP_SECONDS:
                sweep_stale_jobs(workbench)
                workbench.store.clean_partial()  # only files whose writer died: safe beside running jobs
                last_sweep = time.monotonic()
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if cluster is not None:
            cluster.close()
    return server.returncode or 0
