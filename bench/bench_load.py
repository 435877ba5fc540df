"""Load generators: wrk with a Lua script cycling through paths, or Python threads with keep-alive connections
(GETs for a time, or a given list of requests each sent once)."""

from __future__ import annotations

import http.client
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

WRK_SCRIPT = """
local paths = {%(paths)s}
local requests_ = {}
init = function(args)
  for i, path in ipairs(paths) do requests_[i] = wrk.format("GET", path) end
end
local n = 0
request = function()
  n = n + 1
  if n > #requests_ then n = 1 end
  return requests_[n]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50":%%d,"p95":%%d,"p99":%%d,"max":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class PhaseResult:
    """The figures of one measured phase."""

    name: str
    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    errors: int
    distinct_paths: int
    tool: str
    repeated: bool = False  # more requests than distinct paths: some were served twice
    slowest: list = field(default_factory=list)  # [(ms, path)] when the Python client measured it

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_available() -> bool:
    """True when a wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run_wrk(name: str, base_url: str, paths: list[str], clients: int, seconds: float) -> PhaseResult:
    """Drive `clients` connections from one wrk thread for `seconds`, cycling through `paths`."""
    with tempfile.TemporaryDirectory(prefix="abode-bench-") as tmp:
        script = Path(tmp) / "paths.lua"
        quoted = ",".join(json.dumps(path) for path in paths)  # JSON string escapes are valid Lua ones here
        script.write_text(WRK_SCRIPT % {"paths": quoted})
        command = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
                   "-s", str(script), base_url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout[-1500:]} {result.stderr[-1500:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return PhaseResult(name=name, clients=clients, requests=data["requests"], seconds=round(elapsed, 2),
                       rps=round(data["requests"] / elapsed, 1), p50_ms=data["p50"] / 1000,
                       p95_ms=data["p95"] / 1000, p99_ms=data["p99"] / 1000, max_ms=data["max"] / 1000,
                       non_2xx=data["status"], errors=errors, distinct_paths=len(paths), tool="wrk",
                       repeated=data["requests"] > len(paths))


@dataclass(frozen=True)
class Request:
    """One request to send: method, path, optional body and headers, and a tag to group the outcomes by."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    tag: str = ""


@dataclass(frozen=True)
class Outcome:
    """What one request got: its status (None when the connection failed) and its latency in milliseconds."""

    request: Request
    status: int | None
    ms: float


class _Client(threading.Thread):
    """One connection: sends what `next_request()` hands out, back to back, until it returns None."""

    def __init__(self, host: str, port: int, next_request: Callable[[], Request | None]) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.next_request = host, port, next_request
        self.outcomes: list[Outcome] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while (request := self.next_request()) is not None:
            started = time.perf_counter()
            try:
                conn.request(request.method, request.path, body=request.body, headers=request.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = None
                conn.close()  # the next request opens a new connection
            self.outcomes.append(Outcome(request, status, (time.perf_counter() - started) * 1000))
        conn.close()


def _host_port(base_url: str) -> tuple[str, int]:
    host, _, port = base_url.removeprefix("http://").rstrip("/").partition(":")
    return host, int(port)


def _drive(base_url: str, next_request: Callable[[], Request | None], clients: int) -> tuple[list[Outcome], float]:
    """`clients` threads with a connection each, sending until `next_request()` runs dry: (outcomes, seconds)."""
    host, port = _host_port(base_url)
    workers = [_Client(host, port, next_request) for _ in range(clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [outcome for worker in workers for outcome in worker.outcomes], time.perf_counter() - started


def send_all(base_url: str, requests: Iterable[Request], clients: int) -> tuple[list[Outcome], float]:
    """Send each request once, in order, from `clients` concurrent connections: (outcomes, wall seconds)."""
    pending, lock = iter(requests), threading.Lock()

    def next_request() -> Request | None:
        with lock:
            return next(pending, None)

    return _drive(base_url, next_request, clients)


def run_python(name: str, base_url: str, paths: list[str], clients: int, seconds: float) -> PhaseResult:
    """The wrk-less fallback: `clients` threads for `seconds`, cycling through `paths`."""
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    def next_request() -> Request | None:
        return Request("GET", paths[next(counter) % len(paths)]) if time.perf_counter() < deadline else None

    outcomes, elapsed = _drive(base_url, next_request, clients)
    samples = sorted((o.ms, o.request.path) for o in outcomes if o.status is not None)
    latencies = [ms for ms, _path in samples]
    return PhaseResult(name=name, clients=clients, requests=len(samples), seconds=round(elapsed, 2),
                       rps=round(len(samples) / elapsed, 1), p50_ms=round(percentile(latencies, 50), 2),
                       p95_ms=round(percentile(latencies, 95), 2), p99_ms=round(percentile(latencies, 99), 2),
                       max_ms=round(latencies[-1], 2) if latencies else 0.0,
                       non_2xx=sum(1 for o in outcomes if o.status is not None and not 200 <= o.status < 300),
                       errors=sum(1 for o in outcomes if o.status is None), distinct_paths=len(paths),
                       tool="python", repeated=len(samples) > len(paths),
                       slowest=[(round(ms, 1), path) for ms, path in samples[-5:][::-1]])


def _total(body: bytes) -> int | None:
    try:
        return json.loads(body).get("total")
    except (ValueError, AttributeError):
        return None


def fetch_all(base_url: str, paths: list[str]) -> list[tuple[int, float, int | None]]:
    """GET each path once, in order, on one connection: [(status, ms, "total" of the JSON body)]; warms a cache."""
    conn = http.client.HTTPConnection(*_host_port(base_url), timeout=60)
    statuses = []
    try:
        for path in paths:
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            statuses.append((response.status, elapsed, _total(body)))
    finally:
        conn.close()
    return statuses
