"""Where the load benchmark's CPU goes: the browsers' processes (kept below the server's priority and
sampled from /proc), the served app's processes, and the whole machine (/proc/stat)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["Browsers", "descendants", "machine_cpu", "process_cpu_seconds", "server_cpu"]


class Browsers:
    """Watches this script's browser processes: keeps every Chromium thread ``niceness`` steps below
    the server, and adds up the CPU time of every browser process it saw.

    In use the browsers run on the people's own computers; here they share the server's cores, and
    ten renderers at the server's priority would measure the machine's rendering, not the server.
    Chromium sets its processes' priorities itself (as root even above normal), so they are
    lowered again every 0.2 s, except the network process (see :func:`_network_process`). Only
    descendants of this script are touched. Their rendering time is still in every page time. ``getrusage`` misses most of their CPU (Chromium's helpers are
    not reaped through this script), so it is sampled from /proc every 0.2 s instead (the last
    0.2 s of a process that ends is missed).
    """

    def __init__(self, niceness: int) -> None:
        self.niceness = niceness
        self._seen: dict[int, float] = {}  # pid -> its CPU seconds when last sampled
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="browser-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def cpu_seconds(self) -> float:
        with self._lock:
            return sum(self._seen.values())

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        """Read every browser process's CPU now (and lower its threads' priority)."""
        for pid in descendants(os.getpid()):
            try:
                name = Path(f"/proc/{pid}/comm").read_text()
                if not name.startswith(("chrom", "node")):  # the server is a descendant too
                    continue
                spent = process_cpu_seconds(pid)
                with self._lock:  # the Playwright driver (node) serves the browsers: counted with them
                    self._seen[pid] = max(spent, self._seen.get(pid, 0.0))
                if not name.startswith("chrom") or not self.niceness or _network_process(pid):
                    continue
                for tid in os.listdir(f"/proc/{pid}/task"):
                    if os.getpriority(os.PRIO_PROCESS, int(tid)) < self.niceness:
                        os.setpriority(os.PRIO_PROCESS, int(tid), self.niceness)
            except (OSError, ValueError):  # a process or thread that ended meanwhile
                continue


def _network_process(pid: int) -> bool:
    """Chromium's network process keeps its priority: it takes the websocket frames' timestamps
    (the server's part of each page time), which a starved process would take late. It uses
    little CPU (a fraction of a second per page)."""
    return b"network.mojom.NetworkService" in Path(f"/proc/{pid}/cmdline").read_bytes()


def machine_cpu() -> tuple[float, float]:
    """Busy and idle CPU seconds of the whole machine so far (all cores, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK"), idle / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one live process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(server) -> dict[str, float]:
    """CPU seconds so far of the web server (Streamlit) and of the job workers (the rest of serve)."""
    spent = {"web server": 0.0, "job workers": 0.0}
    for pid in [server.process.pid, *descendants(server.process.pid)]:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes()
            spent["web server" if b"streamlit" in args else "job workers"] += process_cpu_seconds(pid)
        except (OSError, ValueError):
            continue
    return spent
