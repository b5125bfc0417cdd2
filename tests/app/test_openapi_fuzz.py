"""Schemathesis against `/api/v1/openapi.json`: every operation, with a bounded number of
schema-valid requests each, gives no server error and answers as documented (status code, content
type, body schema, `Allow` on 405).

Schema-valid is not always acceptable: an indicator code, a county or a quarter that the catalogue
does not hold is refused with a located 422, which the document lists for each operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mel.accounts.operations import create_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          allow_header_conformance]
EXAMPLES = 6  # per operation: bounded, so CI stays quick


def failures_of(operation, headers: dict) -> list[str]:
    found: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # every failure is collected and reported below
            found.append(f"{operation.method.upper()} {operation.path}: {' '.join(str(exc).split())[:400]}")

    run()
    return found


@pytest.mark.slow  # about two hundred generated requests
def test_every_operation_answers_as_documented(app, session):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {create_token(session, 'secretariat@demo.test').token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    failures = [failure for operation in operations for failure in failures_of(operation, headers)]
    assert failures == []
