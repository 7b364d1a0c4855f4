"""What erasure keeps and clears of the notifier's records (pure rules, no I/O)."""

from __future__ import annotations

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain_erasure import (
    ERASED_TEXT,
    erased_contact_of,
    erased_params,
    erased_text,
    personal_strings,
    scrubbed,
)

CONTACT = ContactSnapshot(
    name="王小明",
    phone="+8613912345678",
    email="wang@example.com",
    wechat_openid="o-wang-1",
    consent=ConsentSnapshot(service=True, marketing=True),
    locale=Locale.EN,
)


def test_free_text_becomes_the_placeholder_and_absent_text_stays_absent() -> None:
    assert erased_text("Call 王小明 back") == ERASED_TEXT
    assert erased_text(None) is None


def test_a_contact_is_erased_in_its_locale_and_stays_valid() -> None:
    erased = erased_contact_of(CONTACT.model_dump(mode="json"))
    assert erased == erased_contact(Locale.EN).model_dump(mode="json")
    assert ContactSnapshot.model_validate(erased).erased
    assert erased_contact_of(erased) == erased
    assert erased_contact_of({"locale": "tlh"}) == erased_contact().model_dump(mode="json")


def test_reminder_parameters_keep_dates_and_numbers_only() -> None:
    params = {
        "appointment_time": "2025-03-04 10:00",
        "due_date": "2025-09-03",
        "due_km": "5000",
        "location": "Home of 王小明, 88 Century Ave",
        "update_text": "Your car is ready, Mr Wang",
    }
    erased = erased_params(params)
    assert erased == {
        "appointment_time": "2025-03-04 10:00",
        "due_date": "2025-09-03",
        "due_km": "5000",
        "location": ERASED_TEXT,
        "update_text": ERASED_TEXT,
    }
    assert erased_params(erased) == erased


def test_personal_strings_are_what_identifies_the_person() -> None:
    found = personal_strings([CONTACT, erased_contact()], ["+8613912345678", None, "x"])
    assert found == {
        "王小明",
        "+8613912345678",
        "13912345678",  # as dialled in China
        "wang@example.com",
        "o-wang-1",
    }
    assert personal_strings([erased_contact()]) == frozenset()


def test_scrubbing_replaces_the_personal_strings_in_generated_text() -> None:
    personal = personal_strings([CONTACT])
    title = "Delivery callback: 王小明 (+8613912345678)"
    assert scrubbed(title, personal) == f"Delivery callback: {ERASED_TEXT} ({ERASED_TEXT})"
    # the longest first: the national number inside the E.164 one does not leave "+86"
    assert "+86" not in scrubbed("call +8613912345678 or 13912345678", personal)
    assert scrubbed("Delivery callback: delivery DLV-1", personal) == (
        "Delivery callback: delivery DLV-1"
    )
    assert scrubbed(None, personal) is None
    once = scrubbed(title, personal)
    assert scrubbed(once, personal) == once
