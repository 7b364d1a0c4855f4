"""Erasing a customer at one store (``CustomerErasureRequested``, run by the runtime's
erasure subscription, see `dealerflow.runtime.erasure`).

Anonymises, deletes nothing (the rules are in `domain_erasure`):

- ``complaints`` of the customer: the contact becomes the erased contact (its locale
  kept); summary, details, pause reason and the resolution's cause, measures and reply
  become "(erased)"; the unused request hash (of a request that carried the contact) is
  cleared. Ids, status, channel, category, severity, handler, department, vehicle, origin,
  escalation level, reopen count and every date stay; so do the clocks and their timers.
- ``complaint_history`` of those complaints: the notes and reasons staff or a trigger
  wrote and the resolution text; the entries, actions, actors and dates stay.
- ``complaint_pauses`` of those complaints: the reason becomes "(erased)"; who paused and
  resumed, the clocks and the dates stay.
- ``customer_contacts``: the entry becomes the erased contact, observed no earlier than
  the request (written when there was none): an event older than the request consumed
  late brings no contact back, a newer one (the customer came back) does.
- ``awaiting_contact`` (automatic complaints waiting for the contact): each parked
  event's contact, note, comment and reasons erased. The trigger keeps waiting: when its
  wait ends it opens the complaint with the erased contact (the directory now has one).
- ``complaint_confirmations`` of those complaints: the note; the answer, channel, who
  recorded it and when stay.
- ``repair_visits`` of the customer (the repeat-repair and investigation read model):
  the concerns are emptied, as service-center erases them at the source; vehicle, repair
  order, advisor, work type and dates stay (an erased repair no longer counts as an
  earlier repair for repeat detection).
- ``customer_sales`` (the investigation read model): nothing; it holds ids, model, VIN,
  price, consultant and dates, what sales itself keeps after an erasure.

Nothing is cancelled: complaints sends no message itself. Open complaints keep their
clocks and escalations (the store still owes the handling), but they and every later
ComplaintOpened carry only the erased contact (no phone, e-mail or WeChat, no consent),
so nothing built on them can reach the person.

Idempotent: a second run finds everything erased and changes nothing (counts 0).
"""

from __future__ import annotations

from dataclasses import replace

from dealerflow.complaints import repository_contacts, repository_erasure
from dealerflow.complaints.domain_erasure import (
    ERASED_TEXT,
    erased_contact_of,
    erased_history_details,
    erased_resolution,
    erased_text,
    erased_trigger,
)
from dealerflow.complaints.usecases import Uc
from dealerflow.contracts.registry import event_class
from dealerflow.runtime.erasure import Erasure


async def erase_customer(uc: Uc, erasure: Erasure) -> dict[str, int]:
    """Anonymise what complaints holds about the customer at the store; rows changed
    per table."""
    dealer_id, customer_id = erasure.dealer_id, erasure.customer_id
    complaints = 0
    for stored in await repository_erasure.complaints_of_customer(uc.conn, dealer_id, customer_id):
        erased = replace(
            stored,
            contact=erased_contact_of(stored.contact),
            summary=ERASED_TEXT,
            details=erased_text(stored.details),
            pause_reason=erased_text(stored.pause_reason),
            resolution=erased_resolution(stored.resolution),
            request_hash=None,
        )
        if erased != stored:
            await repository_erasure.save_complaint_personal_data(
                uc.conn, dealer_id, customer_id, erased
            )
            complaints += 1

    history = 0
    for entry in await repository_erasure.history_of_customer(uc.conn, dealer_id, customer_id):
        details = erased_history_details(entry.action, entry.details)
        if details != entry.details:
            await repository_erasure.save_history_details(
                uc.conn, dealer_id, replace(entry, details=details)
            )
            history += 1

    pauses = await repository_erasure.erase_pause_reasons(
        uc.conn, dealer_id, customer_id, ERASED_TEXT
    )

    known = await repository_contacts.contact_of(uc.conn, dealer_id, customer_id, for_update=True)
    directory = await repository_erasure.erase_directory_contact(
        uc.conn,
        dealer_id,
        customer_id,
        contact=erased_contact_of(known.model_dump(mode="json") if known else {}),
        observed_at=erasure.requested_at,
    )

    parked = 0
    for waiting in await repository_erasure.parked_events_of(uc.conn, dealer_id, customer_id):
        event = event_class(waiting.event_type).model_validate_json(waiting.event)
        scrubbed = erased_trigger(event)
        if scrubbed != event:
            await repository_erasure.save_parked_event(
                uc.conn, dealer_id, customer_id, replace(waiting, event=scrubbed.model_dump_json())
            )
            parked += 1

    confirmations = await repository_erasure.erase_confirmation_notes(
        uc.conn, dealer_id, customer_id, ERASED_TEXT
    )
    repairs = await repository_erasure.erase_repair_concerns(uc.conn, dealer_id, customer_id)

    return {
        "complaints": complaints,
        "complaint_history": history,
        "complaint_pauses": pauses,
        "customer_contacts": int(directory),
        "awaiting_contact": parked,
        "complaint_confirmations": confirmations,
        "repair_visits": repairs,
    }
