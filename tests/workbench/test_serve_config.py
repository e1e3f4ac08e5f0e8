"""What `workbench serve` promises a deployment (README "Deployment"), checked on the served app:
XSRF and CORS protection on, Streamlit's allowed hosts taken from the environment, the upload limit
tied to the workbench setting, and the local cluster's workers below the web server's priority."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from tests.e2e.conftest import Server
from workbench.jobs.priority import WORKER_NICENESS

pytestmark = pytest.mark.slow

PUBLIC = "workbench.hospital.example"


def _handshake(server: Server, *, host: str, origin: str) -> str:
    """The status line the server answers a WebSocket upgrade of the app's stream with."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        return sock.recv(200).split(b"\r\n")[0].decode()


def _streamlit_pid(server: Server) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in args and str(server.port).encode() in args:
                return int(entry.name)
    raise AssertionError("no Streamlit process found")


def test_served_app_keeps_xsrf_cors_allowed_hosts_upload_limit_and_worker_priority(tmp_path, monkeypatch):
    from distributed import Client

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "workbench.toml").write_text("max_upload_mb = 7\ndemo_project = false\n")
    monkeypatch.setenv("STREAMLIT_SERVER_ALLOWED_HOSTS", f"127.0.0.1 {PUBLIC}")
    server = Server(data_dir, tmp_path / "server.log").start()
    try:
        local = f"127.0.0.1:{server.port}"
        assert _handshake(server, host=local, origin=f"http://{local}").endswith("101 Switching Protocols")
        assert _handshake(server, host=PUBLIC, origin=f"https://{PUBLIC}").endswith("101 Switching Protocols")
        # CORS: a page on another site cannot open the app's stream with the user's browser
        assert _handshake(server, host=local, origin="https://other.example").endswith("403 Forbidden")
        # allowed hosts: a request naming another host (DNS rebinding) is refused too
        assert not _handshake(server, host="rebound.example", origin="http://rebound.example").endswith("101 Switching Protocols")

        # XSRF: an upload without the token is refused
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            body = b"a,b\n1,2\n"
            sock.sendall(f"PUT /_stcore/upload_file/s/f HTTP/1.1\r\nHost: {local}\r\nContent-Length: {len(body)}\r\n"
                         "Content-Type: text/csv\r\n\r\n".encode() + body)
            assert sock.recv(200).split(b"\r\n")[0].decode().endswith("403 Forbidden")

        streamlit = _streamlit_pid(server)
        args = (Path("/proc") / str(streamlit) / "cmdline").read_bytes().decode().split("\0")
        assert args[args.index("--server.maxUploadSize") + 1] == "7"  # the workbench setting, not Streamlit's own

        scheduler = re.search(r"local Dask cluster at (tcp://\S+)", server.output()).group(1)
        with Client(scheduler, set_as_default=False, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            worker_nice = set(client.run(lambda: os.getpriority(os.PRIO_PROCESS, 0)).values())
            task_nice = client.submit(lambda: os.getpriority(os.PRIO_PROCESS, 0), pure=False).result()
        web_nice = os.getpriority(os.PRIO_PROCESS, streamlit)
        lowered = min(19, web_nice + WORKER_NICENESS)
        assert worker_nice == {lowered} and task_nice == lowered and lowered > web_nice
    finally:
        server.stop()
