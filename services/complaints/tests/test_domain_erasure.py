"""What erasure keeps and clears of complaint data (pure rules, no I/O)."""

from __future__ import annotations

from dealerflow.complaints.domain_erasure import (
    ERASED_TEXT,
    erased_contact_of,
    erased_history_details,
    erased_resolution,
    erased_text,
    erased_trigger,
)
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale
from dealerflow.contracts.events.notifier import SurveyResponded, TaskCompleted
from dealerflow.contracts.events.service import QualityCheckFailed, RepairOrderOpened
from dealerflow.contracts.examples import example_for

CONTACT = ContactSnapshot(
    name="王小明",
    phone="+8613912345678",
    email="wang@example.com",
    consent=ConsentSnapshot(service=True, marketing=True),
    locale=Locale.EN,
)


def test_free_text_becomes_the_placeholder_and_absent_text_stays_absent() -> None:
    assert erased_text("王小明 called twice") == ERASED_TEXT
    assert erased_text(None) is None
    assert erased_text(erased_text("x")) == ERASED_TEXT


def test_a_contact_is_erased_in_its_locale_and_stays_valid() -> None:
    erased = erased_contact_of(CONTACT.model_dump(mode="json"))
    assert erased == erased_contact(Locale.EN).model_dump(mode="json")
    snapshot = ContactSnapshot.model_validate(erased)
    assert (snapshot.erased, snapshot.phone, snapshot.email) == (True, None, None)
    assert erased_contact_of(erased) == erased  # idempotent


def test_a_contact_without_a_known_locale_gets_the_default_one() -> None:
    default = erased_contact(Locale.ZH_CN).model_dump(mode="json")
    assert erased_contact_of({}) == default
    assert erased_contact_of({"name": "x", "locale": "tlh"}) == default


def test_a_resolution_keeps_who_and_what_kind_and_loses_the_text() -> None:
    stored = {
        "responsibility": "dealer",
        "responsible_department": "after_sales",
        "cause": "Mr Wang's pads were worn",
        "measures": ["Replaced pads", "Refunded 500 CNY to 6222 0000"],
        "resolution": "Told Mr Wang on +8613912345678",
        "handler_id": "cr-zhou",
    }
    erased = erased_resolution(stored)
    assert erased == {
        "responsibility": "dealer",
        "responsible_department": "after_sales",
        "cause": ERASED_TEXT,
        "measures": [ERASED_TEXT, ERASED_TEXT],
        "resolution": ERASED_TEXT,
        "handler_id": "cr-zhou",
    }
    assert erased_resolution(erased) == erased
    assert erased_resolution({**stored, "cause": None})["cause"] is None  # type: ignore[index]
    assert erased_resolution(None) is None


def test_history_details_lose_notes_reasons_and_resolution_text_only() -> None:
    assert erased_history_details("customer_informed", {"note": "Called 王小明"}) == {
        "note": ERASED_TEXT
    }
    assert erased_history_details("customer_informed", {"note": None}) == {"note": None}
    assert erased_history_details("paused", {"reason": "abroad", "clocks": ["resolve"]}) == {
        "reason": ERASED_TEXT,
        "clocks": ["resolve"],
    }
    assert erased_history_details("reopened", {"reason": "Still squeals"}) == {
        "reason": ERASED_TEXT
    }
    confirmation = {"confirmed": False, "channel": "phone", "note": "王小明 is not convinced"}
    assert erased_history_details("customer_confirmation", confirmation) == {
        "confirmed": False,
        "channel": "phone",
        "note": ERASED_TEXT,
    }
    resolved = erased_history_details(
        "resolved", {"resolution": {"measures": ["x"], "resolution": "y", "cause": None}}
    )
    assert resolved == {
        "resolution": {"measures": [ERASED_TEXT], "resolution": ERASED_TEXT, "cause": None}
    }
    # an assignment's reason is an enum value, not text anybody wrote: kept
    assigned = {"handler_id": "h-2", "previous": "h-1", "department": "sales", "reason": "manual"}
    assert erased_history_details("assigned", assigned) == assigned
    opened = {"channel": "hotline", "severity": "normal"}
    assert erased_history_details("opened", opened) == opened


def test_a_parked_task_or_survey_loses_its_note_or_comment() -> None:
    task = example_for(TaskCompleted).model_copy(update={"note": "王小明 was rude about it"})
    erased = erased_trigger(task)
    assert isinstance(erased, TaskCompleted)
    assert erased.note == ERASED_TEXT
    assert (erased.task_id, erased.kind, erased.outcome) == (task.task_id, task.kind, task.outcome)
    assert erased_trigger(erased) == erased
    assert erased_trigger(task.model_copy(update={"note": None})) == task.model_copy(
        update={"note": None}
    )

    survey = example_for(SurveyResponded).model_copy(update={"comment": "Call me on 139..."})
    erased_survey = erased_trigger(survey)
    assert isinstance(erased_survey, SurveyResponded)
    assert (erased_survey.comment, erased_survey.score) == (ERASED_TEXT, survey.score)


def test_a_parked_quality_check_loses_its_reasons_and_a_carried_contact_is_erased() -> None:
    check = example_for(QualityCheckFailed)
    erased = erased_trigger(check)
    assert isinstance(erased, QualityCheckFailed)
    assert erased.reasons == [ERASED_TEXT] * len(check.reasons)
    assert erased.attempt == check.attempt

    opened = example_for(RepairOrderOpened).model_copy(update={"contact": CONTACT})
    erased_opened = erased_trigger(opened)
    assert isinstance(erased_opened, RepairOrderOpened)
    assert erased_opened.contact == erased_contact(Locale.EN)
    # the events still validate as what they are (a parked trigger is restored from JSON)
    again = RepairOrderOpened.model_validate_json(erased_opened.model_dump_json())
    assert again == erased_opened
