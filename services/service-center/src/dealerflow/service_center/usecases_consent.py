"""ConsentChanged (notifier topic, from the notifier or any system capturing consent)
refreshes the consent in every contact snapshot service-center keeps for the customer:
repair orders, service appointments and owned vehicles (``with_consent_change``: a
per-channel withdrawal is an opt-out of that channel). Erased contacts stay erased; a
customer unknown here changes nothing. Replaying the event gives the same snapshots."""

from __future__ import annotations

from dealerflow.contracts.contact import with_consent_change
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import repository_consent as repo
from dealerflow.service_center.settings import ServiceCenterSettings

Uc = UseCaseContext[ServiceCenterSettings]


async def refresh_contact_consent(uc: Uc, event: ConsentChanged) -> int:
    """Apply the change to every stored snapshot of the customer; the number refreshed."""
    refreshed = 0
    for table, key, contact in await repo.contacts_of(uc.conn, event.dealer_id, event.customer_id):
        if contact.erased:
            continue
        updated = with_consent_change(
            contact, purpose=event.purpose, channel=event.channel, granted=event.granted
        )
        if updated != contact:
            await repo.set_contact(uc.conn, table, event.dealer_id, key, updated)
            refreshed += 1
    return refreshed
