"""The app as a real server process (gunicorn, gthread workers), for tests and benchmarks that need two processes
sharing one database and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(env: dict[str, str], threads: int, workers: int) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log_dir = ROOT / "instance"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"app-process-{port}.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", str(threads),
             "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log_path


def _wait_ready(process: subprocess.Popen, base: str, log_path: Path) -> None:
    for _ in range(300):  # gunicorn and the app start in about two seconds; give a loaded machine 30
        if process.poll() is not None:
            raise RuntimeError(f"the app process exited: {log_path.read_text()[-2000:]}")
        try:
            if requests.get(base + "/api/v1/health", timeout=5).status_code in (200, 503):
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"the app process did not start: {log_path.read_text()[-2000:]}")


def _stop(process: subprocess.Popen, log_path: Path) -> None:
    process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: open streams are cut, not waited for
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log_path.unlink(missing_ok=True)


@contextmanager
def app_processes(env: dict[str, str], count: int = 1, *, threads: int = 16, workers: int = 1) -> Iterator[list[str]]:
    """Run `count` processes of `gunicorn wsgi:app` (gthread) with `env` on top of this process's environment,
    started side by side, until the block ends; yields their base URLs once each /api/v1/health answers."""
    started = []
    try:
        for _ in range(count):
            started.append(_start(env, threads, workers))
        for process, base, log_path in started:
            _wait_ready(process, base, log_path)
        yield [base for _process, base, _log in started]
    finally:
        for process, _base, log_path in started:
            _stop(process, log_path)
