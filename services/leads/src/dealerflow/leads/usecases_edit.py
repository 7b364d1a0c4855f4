"""Editing a lead: its interest (models, budget, use, purchase horizon, notes), with a
``LeadUpdated`` (reason edited) that names the fields changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from dealerflow.contracts.enums import LeadUpdateReason
from dealerflow.contracts.envelope import summarise_validation_error
from dealerflow.contracts.events.leads import LeadUpdated
from dealerflow.leads import repository as repo
from dealerflow.leads.domain import LeadRejected
from dealerflow.leads.domain_edit import edit_interest
from dealerflow.leads.usecases import LeadDossier, Uc, lead_dossier, load_lead


class InvalidLeadEdit(LeadRejected):
    """A patch the lead's interest cannot take (e.g. a budget minimum above its maximum)."""


@dataclass(frozen=True)
class EditLead:
    dealer_id: str
    lead_id: uuid.UUID
    #: the interest fields given (a JSON merge patch: null clears a field)
    interest: Mapping[str, Any]


async def edit_lead(uc: Uc, cmd: EditLead) -> LeadDossier:
    """Apply the patch; when something changed, save the lead (touched now) and publish
    ``LeadUpdated`` with the new interest. An edit that changes nothing publishes nothing."""
    lead = await load_lead(uc, cmd.dealer_id, cmd.lead_id)
    try:
        interest, changed = edit_interest(lead.interest, cmd.interest)
    except ValidationError as exc:
        raise InvalidLeadEdit(summarise_validation_error(exc)) from None
    except ValueError as exc:
        raise InvalidLeadEdit(str(exc)) from None
    if changed:
        lead = replace(lead, interest=interest, updated_at=uc.now)
        await repo.save_lead(uc.conn, lead)
        await uc.publish(
            LeadUpdated(
                dealer_id=lead.dealer_id,
                customer_id=lead.customer_id,
                occurred_at=uc.now,
                lead_id=str(lead.lead_id),
                reason=LeadUpdateReason.EDITED,
                changed_fields=changed,
                interest=interest,
                updated_at=uc.now,
            )
        )
    return await lead_dossier(uc, cmd.dealer_id, cmd.lead_id)
