"""Schemathesis over the whole OpenAPI document (/api/openapi.json), through the app's WSGI interface.

Every operation is fuzzed with data that fits its schemas and with data that does not, and a stateful run follows
the document's links (a created listing to its routes, a booking to its payment...). Each answer must be a
documented status with the contract's error body and match its documented schema, content type and headers.
Whatever route exists is covered: the operations are read from the document. A bounded number of examples keeps
it to about a minute on SQLite and on MariaDB.

Not checked on every run, because JSON Schema cannot say it exactly (run them by hand with
`checks=[checks.positive_data_acceptance, checks.negative_data_rejection]` to find a schema that drifted from its
validation): that every schema-valid request is accepted (rules across fields such as `check_out` after
`check_in`, what exists in the database, a webhook's signature, a photo's content), and that every request the
schema refuses is refused (text is trimmed before its length is checked, so a long run of spaces fits).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from ..support.factories import make_listing, make_user
from ..support.stays import paid_booking

EXAMPLES_PER_OPERATION = 12
STATEFUL_SCENARIOS, STATEFUL_STEPS = 40, 10
ADMIN_PREFIX = "/api/v1/admin/"
# The operations that would end the session the others run in (their own tests cover them).
SKIPPED_OPERATION_IDS = ["auth_api.logout", "auth_api.logout_all"]
# Followed from the admin's user list, it suspends the host whose token the stateful run uses.
SUSPENDS = "administration_api.update_user"


@schemathesis.deserializer("text/event-stream")
def _event_stream(ctx, response):
    """The live notification stream is documented as a string of server-sent events: its text."""
    return response.content.decode("utf-8")


CHECKS = [not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture
def fuzz_world(make_app) -> tuple[schemathesis.BaseSchema, Callable]:
    """The document loaded from a fresh app, and headers(case) -> a Bearer token for that operation: a host
    with a listing for every route, an admin for admin routes (a guest would only ever get 403 there)."""
    app = make_app(RATELIMIT_ENABLED=False, MAX_CONTENT_LENGTH=64 * 1024, NOTIFICATION_STREAM_MAX_SECONDS=0)
    from app.blueprints.auth.services import start_session
    from app.blueprints.bookings import services as bookings

    host = make_user(email="fuzz-host@example.com", role="host")
    paid_booking(host=host)  # the host's listing, booked and paid by a guest
    cabin = make_listing(make_user(email="other-host@example.com", role="host"), title="Another host's cabin",
                         min_nights=1)
    check_in = date.today() + timedelta(days=40)
    bookings.create_booking(guest=host, listing_id=cabin.id, check_in=check_in,
                            check_out=check_in + timedelta(days=2), guests=1)  # the host's own trip, unpaid
    host_token = {"Authorization": f"Bearer {start_session(host)['access_token']}"}
    admin = make_user(email="fuzz-admin@example.com", role="admin")
    admin_token = {"Authorization": f"Bearer {start_session(admin)['access_token']}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).exclude(operation_id=SKIPPED_OPERATION_IDS)
    # The token is ours to send: generated Authorization headers would only test the 401 the other tests cover.
    schema.config.generation.update(with_security_parameters=False)

    def headers(case) -> dict:
        return admin_token if case.operation.path.startswith(ADMIN_PREFIX) else host_token

    return schema, headers


def _operations(schema) -> list:
    """Every documented operation; admin ones last, as one may suspend the host the others use."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.path.startswith(ADMIN_PREFIX), op.label))


def test_every_operation_answers_fuzzed_input_as_documented(fuzz_world):
    schema, headers = fuzz_world
    operations = _operations(schema)
    assert len(operations) >= 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None, derandomize=True)
            def check(case):
                token = headers(case)
                response = case.call(headers=token)
                case.validate_response(response, checks=CHECKS, headers=token)
                if response.status_code >= 400:
                    error = response.json()["error"]
                    assert error["code"] and error["message"], case.operation.label

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters, no body


def test_stateful_runs_follow_the_links_and_answer_as_documented(fuzz_world):
    schema, headers = fuzz_world
    reached: set[tuple[str, int]] = set()
    Machine = schema.exclude(operation_id=SUSPENDS).as_state_machine()

    class Workflow(Machine):
        def get_call_kwargs(self, case):
            return {"headers": headers(case)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            reached.add((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))

    Workflow.run(settings=settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS,
                                   deadline=None, suppress_health_check=list(HealthCheck), database=None,
                                   derandomize=True))
    # Through the links the fuzzer reaches what exists (the seeded listings, bookings and notifications, what it
    # created itself), not only 404s: several operations on an id answered something else.
    found = {label for label, status in reached if "{" in label and status not in (404, 422)}
    assert len(found) >= 4, "\n".join(map(str, sorted(reached)))
