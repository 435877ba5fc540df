"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`; `celery --app wsgi:celery worker|beat`."""

from app import create_app

app = create_app()
celery = app.extensions["celery"]
