"""Merging duplicate leads of one person (a second phone number, a lead keyed in twice):
the surviving lead keeps every history, the merged leads close as "merged", their numbers
reach the survivor from then on, and ``LeadMerged`` tells the notifier to move their tasks
and reminders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from dealerflow.contracts.events.leads import LeadMerged
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_merge as merges
from dealerflow.leads.domain_merge import MergeSide, check_merge, survivor_after
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.usecases import Uc, load_lead


@dataclass(frozen=True)
class MergeLeads:
    dealer_id: str
    #: the surviving lead
    lead_id: uuid.UUID
    merged_lead_ids: tuple[uuid.UUID, ...]


def _side(lead: LeadRecord) -> MergeSide:
    return MergeSide(
        lead.lead_id, lead.customer_id, lead.status, lead.touch_count, lead.last_touch_at
    )


async def merge_leads(uc: Uc, cmd: MergeLeads) -> LeadRecord:
    """Merge ``merged_lead_ids`` into the lead (rules: ``domain_merge.check_merge``)."""
    survivor = await load_lead(uc, cmd.dealer_id, cmd.lead_id)
    merged = [await load_lead(uc, cmd.dealer_id, lead_id) for lead_id in cmd.merged_lead_ids]
    check_merge(_side(survivor), [_side(lead) for lead in merged])
    # the people's numbers, in one order: a submission for either waits for the merge
    for phone in sorted({survivor.phone_e164, *(lead.phone_e164 for lead in merged)}):
        await repo.lock_person(uc.conn, cmd.dealer_id, phone)
    outcome = survivor_after(_side(survivor), [_side(lead) for lead in merged])
    for lead in merged:
        await merges.move_history(uc.conn, cmd.dealer_id, lead.lead_id, survivor.lead_id)
        await merges.alias_phones(
            uc.conn, cmd.dealer_id, lead.lead_id, lead.phone_e164, survivor.lead_id, uc.now
        )
        await merges.close_merged(uc.conn, cmd.dealer_id, lead.lead_id, survivor.lead_id, uc.now)
    survivor = replace(
        survivor,
        touch_count=outcome.touch_count,
        last_touch_at=outcome.last_touch_at,
        updated_at=uc.now,
    )
    await repo.save_lead(uc.conn, survivor)
    await uc.publish(
        LeadMerged(
            dealer_id=survivor.dealer_id,
            customer_id=survivor.customer_id,
            occurred_at=uc.now,
            lead_id=str(survivor.lead_id),
            merged_lead_ids=[str(lead.lead_id) for lead in merged],
            merged_customer_ids=outcome.merged_customer_ids,
            merged_at=uc.now,
        )
    )
    return survivor
