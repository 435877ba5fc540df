"""Property-based fuzzing of every documented API operation (schemathesis): never a 5xx, always the error body."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from ..support.factories import make_user

EXAMPLES_PER_OPERATION = 30
ADMIN_PREFIX = "/api/v1/admin/"


def test_every_api_operation_answers_fuzzed_input_without_5xx(app, auth_headers):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["NOTIFICATION_STREAM_MAX_SECONDS"] = 0  # the live stream answers its opening and ends at once
    headers = auth_headers(make_user(email="fuzz@example.com"))
    # Admin routes are fuzzed as an admin (a guest would only ever get 403), and last: a fuzzed PATCH may
    # suspend the guest whose token the other operations use.
    admin_headers = auth_headers(make_user(email="fuzz-admin@example.com", role="admin"))
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda operation: operation.path.startswith(ADMIN_PREFIX))
    assert len(operations) >= 10

    for operation in operations:
        if operation.path in ("/api/v1/logout", "/api/v1/logout-all"):
            continue  # it would revoke the token the other operations use

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case):
            token = admin_headers if case.operation.path.startswith(ADMIN_PREFIX) else headers
            case.headers = {**(case.headers or {}), **token}
            response = case.call()
            assert response.status_code < 500, f"{case.operation.label}: {response.text[:300]}"
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"], case.operation.label
            if response.status_code == 405:
                assert "allow" in {name.lower() for name in response.headers}

        check()
