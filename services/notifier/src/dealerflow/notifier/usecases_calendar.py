"""The dealer's care calendar (`domain_calendar.CARE_CALENDAR` with the dealer's policy):
the effective rules, and a preview of what an event would make the notifier schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dealerflow.notifier.domain_calendar import EffectiveRule, effective_calendar, unknown_disabled
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]

log = logging.getLogger("dealerflow.notifier")


@dataclass(frozen=True, slots=True)
class CalendarView:
    dealer_id: str
    rules: list[EffectiveRule]
    #: ``care.disabled`` keys that name no rule (ignored).
    unknown_disabled: list[str]


async def care_calendar(uc: Uc, dealer_id: str) -> CalendarView:
    """Every rule with the dealer's numbers and whether the dealer has it on."""
    policy = await uc.policy(dealer_id)
    unknown = unknown_disabled(policy)
    if unknown:
        log.warning("dealer %s: care.disabled names unknown rules %s (ignored)", dealer_id, unknown)
    return CalendarView(dealer_id, effective_calendar(policy), unknown)
