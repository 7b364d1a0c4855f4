"""Complaints takes one client-supplied day, an improvement action's ``due_on``: one
decades away is refused 422 naming the field before anything is recorded (real
PostgreSQL and Kafka); the same action due this month is recorded. Complaint steps take
no time from the client (they happen at the service's "now") and no amount."""

from __future__ import annotations

from typing import Any

import pytest

from dealerflow.devinfra.service_testing import refused_field

pytestmark = pytest.mark.integration

ACTION = {"dealer_id": "sh-pudong-01", "owner_staff_id": "svc-wu"}
ACTION |= {"cause": "Brake pads worn", "description": "Check pad wear at every service"}


async def test_an_improvement_action_due_decades_away_is_422_with_the_field(
    harness: Any,
) -> None:
    # the harness's clock reads 2025-03-05: five years ahead is the bound of plans
    for due_on in ("2999-03-31", "2031-03-31"):
        response = await harness.client.post(
            "/v1/improvement-actions", json=ACTION | {"due_on": due_on}
        )
        assert refused_field(response) == (["body", "due_on"], "implausible_time"), due_on
    assert await harness.db("SELECT 1 FROM improvement_actions") == []
    created = await harness.client.post(
        "/v1/improvement-actions", json=ACTION | {"due_on": "2025-03-31"}
    )
    assert created.status_code == 201, created.text
