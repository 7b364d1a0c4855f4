"""The DealerConfigured example (hand-written in contracts, which do not depend on the policy
library) is a configuration the services can read: a valid `DealerSettings` document."""

from __future__ import annotations

from datetime import date

from dealerflow.contracts.events import DealerConfigured
from dealerflow.contracts.examples import example_for
from dealerflow.policy import BusinessCalendar, DealerSettings, StaffRole


def test_the_example_configuration_is_valid_dealer_settings() -> None:
    event = example_for(DealerConfigured)
    settings = DealerSettings.model_validate(event.configuration)  # unknown keys are refused
    assert settings.profile.group_id == event.group_id
    assert settings.display_name(event.dealer_id) == "Acme Auto Shanghai Pudong"
    # The sales manager is away in the first week of March; the GM stands in.
    assert settings.people.holder_of(StaffRole.SALES_MANAGER, on=date(2026, 3, 3)) == "gm-zhao-min"
    calendar = BusinessCalendar(settings.policy)
    assert calendar.is_working_day(date(2026, 2, 14))  # a make-up Saturday
    assert not calendar.is_working_day(date(2026, 2, 17))  # Spring Festival
