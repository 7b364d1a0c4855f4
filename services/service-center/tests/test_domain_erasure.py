"""What an erasure leaves of a repair order's text (pure rules and the plan, no I/O)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import Locale, ServiceWorkType
from dealerflow.service_center.domain import (
    ERASED_TEXT,
    RepairOrderStatus,
    concern_codes_of,
    erased_concern_codes,
    erased_lines,
)
from dealerflow.service_center.records import Diagnosis, RepairOrderRecord
from dealerflow.service_center.usecases_erasure import plan_erased_order

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_erased_lines_keep_the_count_and_nothing_written() -> None:
    assert erased_lines(["王芳 hears brake noise", "保养"]) == (ERASED_TEXT, ERASED_TEXT)
    assert erased_lines([]) == ()
    assert erased_lines(erased_lines(["x"])) == (ERASED_TEXT,)


def test_codes_taken_from_the_concerns_are_erased_the_advisors_stay() -> None:
    concerns = ["王芳 hears Brake noise!", "保养"]
    derived = concern_codes_of(concerns)
    assert erased_concern_codes(concerns, derived) == (ERASED_TEXT, ERASED_TEXT)
    advisors = concern_codes_of(concerns, ["BRK-01", "保养"])
    # "保养" is both the advisor's code and a concern's text: it goes (it may be theirs).
    assert erased_concern_codes(concerns, advisors) == ("brk01", ERASED_TEXT)
    # Once erased, the concerns no longer match anything: a second pass changes nothing.
    once = erased_concern_codes(concerns, advisors)
    assert erased_concern_codes(erased_lines(concerns), once) == once


def _order(**fields: Any) -> RepairOrderRecord:
    ro = RepairOrderRecord(
        dealer_id="D001",
        id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        service_appointment_id="SA-1",
        vin="LSVAU2180N2183294",
        model="Aurora X5",
        advisor_id="advisor-zhao",
        work_type=ServiceWorkType.REPAIR,
        under_warranty=False,
        mileage_km=20000,
        concerns=("王芳 hears brake noise",),
        concern_codes=("王芳hearsbrakenoise", "brk01"),
        walk_around_findings=("child seat on the back row",),
        contact=ContactSnapshot(
            name="王芳",
            phone="+8613800138000",
            email="wang.fang@example.com",
            consent=ConsentSnapshot(service=True, marketing=True),
            locale=Locale.EN,
        ),
        status=RepairOrderStatus.HANDED_OVER,
        opened_at=T0,
        updated_at=T0,
        diagnosis=Diagnosis("tech-sun", ("pads worn, 王芳 told", "disc scored"), T0),
        work_summary="pads replaced, called 王芳",
        labour_hours=None,
    )
    return replace(ro, **fields)


def test_the_plan_erases_contact_and_text_and_keeps_the_rest() -> None:
    ro = _order()
    erased = plan_erased_order(ro)
    assert "王芳" not in repr(erased)
    assert "13800138000" not in repr(erased)
    assert "wang.fang" not in repr(erased)
    assert erased.contact.erased
    assert erased.contact.locale == Locale.EN
    assert erased.concerns == (ERASED_TEXT,)
    assert erased.concern_codes == (ERASED_TEXT, "brk01")
    assert erased.walk_around_findings == (ERASED_TEXT,)
    assert erased.diagnosis == Diagnosis("tech-sun", (ERASED_TEXT, ERASED_TEXT), T0)
    assert erased.work_summary == ERASED_TEXT
    changed = {"contact", "concerns", "concern_codes", "walk_around_findings"}
    changed |= {"diagnosis", "work_summary"}
    kept = {name: value for name, value in vars(ro).items() if name not in changed}
    assert {name: vars(erased)[name] for name in kept} == kept
    assert plan_erased_order(erased) == erased


def test_the_plan_leaves_what_is_absent_absent() -> None:
    bare = _order(diagnosis=None, work_summary=None, concerns=(), walk_around_findings=())
    erased = plan_erased_order(bare)
    assert (erased.diagnosis, erased.work_summary, erased.concerns) == (None, None, ())
