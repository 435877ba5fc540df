"""The app under gunicorn on loopback for the benchmark, stopped (its whole process group) however the run ends."""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

logger = logging.getLogger("bench.server")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HEALTH_PATH = "/api/v1/health"
DUMMY_SECRET = "bench-only-not-a-secret-0123456789abcdef"  # 40 characters; production config wants non-dev ones


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The production configuration, pointed at the bench database and Redis, with rate limits off."""
    return {**os.environ, "APP_CONFIG": "production", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": DUMMY_SECRET, "JWT_SECRET_KEY": DUMMY_SECRET[::-1],
            "DATA_ENCRYPTION_KEY": DUMMY_SECRET.upper(), "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1"}


class Server:
    """`with Server(args) as base_url:` runs gunicorn serving bench_wsgi:app until the block ends."""

    def __init__(self, args) -> None:
        self.args = args
        self.port = args.port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="abode-bench-gunicorn-", suffix=".log", delete=False)

    def __enter__(self) -> str:
        command = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--pythonpath", str(BENCH),
                   "--workers", str(self.args.workers), "--worker-class", self.args.worker_class,
                   "--threads", str(self.args.threads), "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--timeout", "60", "--graceful-timeout", "5", "bench_wsgi:app"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=server_env(self.args.database_url, self.args.redis_url),
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        logger.info("gunicorn %s (%s workers) on 127.0.0.1:%s", self.proc.pid, self.args.workers, self.port)
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", HEALTH_PATH)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout:g} s:\n{self.log_tail()}")

    def log_text(self) -> str:
        """gunicorn's output so far (the master's and its workers', with the app's log lines and tracebacks)."""
        return Path(self.log.name).read_text(errors="replace")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of gunicorn's output."""
        return self.log_text()[-chars:]

    def __exit__(self, *_exc) -> None:
        """SIGTERM the gunicorn process group (master and its workers), SIGKILL it if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def add_server_arguments(parser, *, workers: int) -> None:
    """The gunicorn and results options every benchmark takes."""
    parser.add_argument("--workers", type=int, default=workers, help=f"gunicorn workers (default {workers})")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results", help="where the JSON goes")


def run_and_report(args, run, render, name: str) -> dict:
    """Run a benchmark (gunicorn is stopped however it ends, SIGTERM included), print its table and write its
    report to <results-dir>/<name>-<time>.json. Returns the report."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops gunicorn on kill too
    report = run(args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    sys.stdout.write(render(report) + f"\nresults: {out}\n")
    return report
