"""Who complaint work goes to: the default handler and the person each escalation rung
reaches, taken from the dealer's people (`DealerSettings.people`) on the dealer-local date
(so a person away that day is replaced by their stand-in).

| work | staff role (people) | when nobody holds it |
|---|---|---|
| handler of a complaint opened without one | customer_relations | ``customer-relations:<dealer>`` |
| rung 1, department manager | see below | ``department-manager:<dealer>`` |
| rung 2, GM | gm | ``gm:<dealer>`` |
| rung 3, OEM/region | ``people.oem_region``: staff_id, else name | ``oem-region:<dealer>`` |

The department manager is the manager of the department the complaint concerns: its
``department`` when it names one (sales -> the sales manager; after-sales and parts -> the
service manager), else its category (sales service -> the sales manager; product quality
and after-sales service -> the service manager). A complaint of another category or
department ("other", finance, ...) has no department manager of its own and goes to the
placeholder. The placeholders (the role with dashes, then the dealer code) are what every
service used before dealers had people, so an alert for one still reaches a shared inbox.

Pure: only contracts, policy and stdlib.
"""

from __future__ import annotations

from datetime import date

from dealerflow.contracts.care_enums import ComplaintCategory, Department, EscalationRole
from dealerflow.contracts.types import StaffId
from dealerflow.policy import DealerSettings, StaffRole, placeholder_assignee

__all__ = [
    "default_handler",
    "department_manager_role",
    "escalation_target",
]

_MANAGER_OF_DEPARTMENT = {
    Department.SALES: StaffRole.SALES_MANAGER,
    Department.AFTER_SALES: StaffRole.SERVICE_MANAGER,
    Department.PARTS: StaffRole.SERVICE_MANAGER,
}
_MANAGER_OF_CATEGORY = {
    ComplaintCategory.SALES_SERVICE: StaffRole.SALES_MANAGER,
    ComplaintCategory.PRODUCT_QUALITY: StaffRole.SERVICE_MANAGER,
    ComplaintCategory.AFTER_SALES_SERVICE: StaffRole.SERVICE_MANAGER,
}
#: the longest name the contracts' StaffId takes (an OEM contact's name may be longer)
_STAFF_ID_MAX = 64


def default_handler(dealer: DealerSettings, dealer_id: str, on: date) -> str:
    """Who handles a complaint opened without a handler: customer relations."""
    holder = dealer.people.holder_of(StaffRole.CUSTOMER_RELATIONS, on=on)
    return holder or placeholder_assignee(StaffRole.CUSTOMER_RELATIONS, dealer_id)


def department_manager_role(category: str, department: str | None) -> StaffRole | None:
    """The manager a complaint's first rung goes to (module docstring), if any."""
    if department is not None and department in _MANAGER_OF_DEPARTMENT:
        return _MANAGER_OF_DEPARTMENT[Department(department)]
    if category in _MANAGER_OF_CATEGORY:
        return _MANAGER_OF_CATEGORY[ComplaintCategory(category)]
    return None


def escalation_target(
    rung: EscalationRole,
    *,
    category: str,
    department: str | None,
    dealer: DealerSettings,
    dealer_id: str,
    on: date,
) -> StaffId:
    """The staff id a complaint escalated to ``rung`` goes to (module docstring)."""
    found: str | None = None
    if rung is EscalationRole.DEPARTMENT_MANAGER:
        role = department_manager_role(category, department)
        found = dealer.people.holder_of(role, on=on) if role is not None else None
    elif rung is EscalationRole.GM:
        found = dealer.people.holder_of(StaffRole.GM, on=on)
    else:
        oem = dealer.people.oem_region
        name = oem.name.strip()
        found = oem.staff_id or (name if 0 < len(name) <= _STAFF_ID_MAX else None)
    return found or placeholder_assignee(rung, dealer_id)
