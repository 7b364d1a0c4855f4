"""What a customer's erasure leaves of the text on a repair order (PIPL Art. 47, GDPR
Art. 17): free text becomes a placeholder, line by line, so a list keeps its length (how
many concerns, findings, reasons there were) and nothing of what was written."""

from __future__ import annotations

from collections.abc import Sequence

from dealerflow.contracts.contact import ERASED_NAME
from dealerflow.service_center.domain_intake import normalise_concern

#: What an erased line of free text reads.
ERASED_TEXT = ERASED_NAME


def erased_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """Each line replaced by :data:`ERASED_TEXT`."""
    return tuple(ERASED_TEXT for _ in lines)


def erased_concern_codes(concerns: Sequence[str], codes: Sequence[str]) -> tuple[str, ...]:
    """The visit's concern codes once its ``concerns`` are erased: a code that is a
    concern's normalised text (what check-in derives when the advisor gives none) is the
    customer's words and is erased; a code the advisor chose stays."""
    derived = {normalise_concern(concern) for concern in concerns}
    return tuple(ERASED_TEXT if code in derived else code for code in codes)
