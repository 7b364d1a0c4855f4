"""ConsentChanged (notifier topic, from the notifier or any system capturing consent)
refreshes the consent in the contact snapshots of the customer's leads, so the lead's
contact shows what the customer agreed to last (``with_consent_change``: a per-channel
withdrawal is an opt-out of that channel). Erased contacts stay erased; a customer
without leads changes nothing. Replaying the event gives the same snapshots."""

from __future__ import annotations

from dealerflow.contracts.contact import with_consent_change
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.leads import repository_consent as repo
from dealerflow.leads.usecases import Uc


async def refresh_lead_consent(uc: Uc, event: ConsentChanged) -> int:
    """Apply the change to every lead of the customer; the number of leads refreshed."""
    refreshed = 0
    for lead_id, contact in await repo.lead_contacts_of(
        uc.conn, event.dealer_id, event.customer_id
    ):
        if contact.erased:
            continue
        updated = with_consent_change(
            contact, purpose=event.purpose, channel=event.channel, granted=event.granted
        )
        if updated != contact:
            await repo.set_lead_contact(uc.conn, event.dealer_id, lead_id, updated)
            refreshed += 1
    return refreshed
