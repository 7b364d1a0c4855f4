"""Who a staff task goes to, from the dealer's people (`DealerSettings.people`).

A planned task names a person (the lead's consultant, the repair order's advisor, the
person a complaint was escalated to) or only a role. On the dealer-local date the task
is *due* (the day the work is done, not the day it was planned):

- a named person who is away that day is replaced by their stand-in (following
  ``replaced_by``; ids the dealer does not list stay as they are);
- a role goes to the person holding it that day (`DealerPeople.holder_of`): consultant,
  advisor, customer relations, sales manager, service manager, GM and parts manager are
  the dealers'
  roles of the same name; a complaint handler is customer relations (who complaints
  hands complaints opened without a handler); the OEM/region is
  ``people.oem_region.staff_id`` (its escalation alerts go to ``webhook_url`` instead of
  the staff channel when the dealer set one: `dealerflow.notifier.usecases_alerts`);
- nobody holding the role (and the department manager, which only complaints can name
  because it depends on the complaint) goes to the documented placeholder
  ``<role-with-dashes>:<dealer_id>``, e.g. ``sales-manager:D001``: the assignee format
  every service used before dealers had people (no setting any more).

Pure: only contracts, policy and stdlib.
"""

from __future__ import annotations

from datetime import date

from dealerflow.notifier.domain_types import StaffRole
from dealerflow.policy import DealerSettings, placeholder_assignee
from dealerflow.policy import StaffRole as DealerRole

__all__ = ["assignee_for"]

_DEALER_ROLE: dict[StaffRole, DealerRole] = {
    StaffRole.CONSULTANT: DealerRole.CONSULTANT,
    StaffRole.ADVISOR: DealerRole.ADVISOR,
    StaffRole.CUSTOMER_RELATIONS: DealerRole.CUSTOMER_RELATIONS,
    StaffRole.COMPLAINT_HANDLER: DealerRole.CUSTOMER_RELATIONS,
    StaffRole.SALES_MANAGER: DealerRole.SALES_MANAGER,
    StaffRole.SERVICE_MANAGER: DealerRole.SERVICE_MANAGER,
    StaffRole.GM: DealerRole.GM,
    StaffRole.PARTS_MANAGER: DealerRole.PARTS_MANAGER,
}


def assignee_for(
    role: StaffRole, named: str | None, dealer: DealerSettings, dealer_id: str, on: date
) -> str:
    """The staff id a task for ``role`` (naming ``named``, if anyone) goes to on ``on``."""
    people = dealer.people
    if named:
        return people.stand_in(named, on)
    holder: str | None = None
    if role is StaffRole.OEM_REGION:
        holder = people.oem_region.staff_id
    elif role in _DEALER_ROLE:
        holder = people.holder_of(_DEALER_ROLE[role], on=on)
    return holder or placeholder_assignee(role, dealer_id)
