"""Schemathesis against the running API: no request the OpenAPI document allows makes the server fail.

Each operation gets generated requests, valid and invalid, with each role's key; every
answer must be a documented status with a body matching its schema, and never a 5xx.
One check is left out: that every schema-valid request is accepted. Some checks cannot be
written in the schema (a period's start before its end, a webhook target that is a URL,
an alert that is not already resolved) and are refused with a 4xx that says why.
(Schemathesis's own pytest plugin does not load under this pytest, so operations are
driven one by one with Hypothesis here.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.helpers import api_headers
from vigia.settings import Settings

pytestmark = pytest.mark.integration

NOT_FUZZED = {"/alerts/stream"}  # an endless response; the live-stream test covers it


ROLES = [("operator", None, 30), ("viewer", None, 8), ("leader", "it-schema", 8), ("sensor-admin", None, 8)]


@pytest.mark.parametrize(("role", "district", "examples"), ROLES, ids=[r[0] for r in ROLES])
def test_no_request_makes_the_api_fail(stack: Settings, role: str, district: str | None, examples: int) -> None:
    """With each role's key: refusals (401, 403, 404) are documented answers too, never a 5xx."""
    operator = api_headers(stack, role, district)
    schema = schemathesis.openapi.from_url(f"http://{stack.api_host}:{stack.api_port}/openapi.json")
    failures: dict[str, str] = {}
    tried = cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue
        tried += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def check(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=operator, timeout=60, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as error:  # noqa: BLE001  # gather every operation's failure, then report them together
            failures[operation.label] = str(error)[:1500]
    print(f"{tried} operations, {cases} generated requests")
    assert tried >= 20
    assert cases >= 5 * tried
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
