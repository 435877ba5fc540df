"""The suite's database and Redis URLs. Under pytest-xdist each worker (gw0, gw1, …) has its own database and
Redis db, derived from TEST_DATABASE_URL and REDIS_URL: workers run tests at the same time and every test empties
its tables and flushes its Redis db. A plain run (no xdist, or `-n 0`) uses them as given.

A MariaDB on loopback is reached without TLS: PyMySQL otherwise builds an SSL context (it loads the CA store,
~20 ms) for every connection, and every test makes an app, hence an engine, hence new connections."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, make_url, text

logger = logging.getLogger(__name__)

REDIS_DATABASES = 16  # Redis' default `databases`: db numbers 0-15
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def worker_id() -> str | None:
    """"gw0", "gw1", … inside an xdist worker; None in a plain run (and in the xdist controller)."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def worker_database_url(url: str, worker: str) -> str:
    """The worker's database: MariaDB `<name>_<worker>`, SQLite `<file stem>_<worker><suffix>` (in-memory as is)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return url
        path = Path(parsed.database)
        return parsed.set(database=str(path.with_name(f"{path.stem}_{worker}{path.suffix}"))).render_as_string(
            hide_password=False)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def worker_redis_url(url: str, worker: str) -> str:
    """The worker's Redis db: REDIS_URL's db number + the worker's index, wrapping round within 0-15."""
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + index) % REDIS_DATABASES}"))


def redis_url_for_worker(url: str) -> str:
    """`url` inside a plain run; the current worker's db derived from it inside an xdist worker."""
    worker = worker_id()
    return url if worker is None else worker_redis_url(url, worker)


def loopback_without_tls(url: str) -> str:
    """A MariaDB URL on loopback that says nothing of TLS gets `ssl_disabled=true`; any other URL is kept."""
    parsed = make_url(url)
    if (parsed.get_backend_name() not in ("mysql", "mariadb") or parsed.host not in LOOPBACK
            or any(key.startswith("ssl") for key in parsed.query)):
        return url
    return parsed.update_query_dict({"ssl_disabled": "true"}).render_as_string(hide_password=False)


def use_test_resources() -> None:
    """Point TEST_DATABASE_URL and REDIS_URL at this process's own database and Redis db (a worker's own under
    xdist). Runs before config.py is imported (it reads the environment once); subprocesses inherit the values."""
    url = loopback_without_tls(os.environ["TEST_DATABASE_URL"])
    worker = worker_id()
    os.environ["TEST_DATABASE_URL"] = url if worker is None else worker_database_url(url, worker)
    if worker is not None and os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)


def ensure_database(url: str) -> None:
    """Create a MariaDB database when it is missing (a worker's is made on its first run); SQLite needs nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or not parsed.database:
        return
    server = create_engine(parsed._replace(database=None))  # URL.set(database=None) keeps the name
    try:
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` CHARACTER SET utf8mb4"))
    finally:
        server.dispose()
    logger.debug("database %s ready", parsed.database)
