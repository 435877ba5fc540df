"""Run a WSGI app on a free loopback port in a thread: the app itself for a browser, or the far end of an outside
service (a Stripe or PayPal stub), for one test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def live_server(wsgi_app: Callable) -> Iterator[str]:
    """Serve `wsgi_app` until the block ends; yields its base URL (http://127.0.0.1:<port>)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
