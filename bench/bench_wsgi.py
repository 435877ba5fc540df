"""WSGI entry point for the benchmark: the real app plus one bare JSON route, the throughput ceiling.

`/bench/bare` goes through the same factory, middleware, request hooks and gunicorn setup as search, but
does no database or cache work, so (bare req/s) - (search req/s) is what search itself costs.
"""

from app import create_app

app = create_app()


@app.get("/bench/bare")
def bench_bare():
    """The smallest JSON answer the app can give."""
    return {"ok": True}
