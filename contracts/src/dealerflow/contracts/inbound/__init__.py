"""Lead submissions from outside systems, published raw to `dealerflow.inbound.leads`.

Accepted bodies: JSON in the `LeadSubmission` shape (content type application/json or any
+json), or ADF 1.0 XML (application/xml, text/xml or any +xml). Without a usable content
type the first non-blank byte decides ("<" = ADF, "{" = JSON). Bodies over 256 KiB are
refused before parsing. Every refusal is a `LeadSubmissionError` whose `reason` the leads
service puts into the dead-letter record.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from pydantic import ValidationError

from dealerflow.contracts.inbound.adf import CHINA_STANDARD_TIME, AdfError, read_adf
from dealerflow.contracts.inbound.model import (
    LeadSubmission,
    SubmittedAddress,
    SubmittedCustomer,
    SubmittedParty,
    SubmittedVehicle,
    VehicleInterest,
)

__all__ = [
    "MAX_SUBMISSION_BYTES",
    "LeadSubmission",
    "LeadSubmissionError",
    "SubmittedAddress",
    "SubmittedCustomer",
    "SubmittedParty",
    "SubmittedVehicle",
    "VehicleInterest",
    "parse_lead_submission",
    "parse_lead_submissions",
]

MAX_SUBMISSION_BYTES = 256 * 1024


class LeadSubmissionError(ValueError):
    """A submission that cannot become a lead; `reason` (also str(e)) says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _kind(body: bytes, content_type: str) -> str:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("application/json", "text/json") or media_type.endswith("+json"):
        return "json"
    if media_type in ("application/xml", "text/xml") or media_type.endswith("+xml"):
        return "adf"
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        return "adf"
    if start == b"{":
        return "json"
    raise LeadSubmissionError(
        f"unsupported content type {content_type!r}: send application/json or ADF XML"
    )


def _validate(data: Any, default_region: str, dealer_id: str | None) -> LeadSubmission:
    if dealer_id is not None and isinstance(data, dict) and not data.get("dealer_id"):
        data = {**data, "dealer_id": dealer_id}
    try:
        return LeadSubmission.model_validate(data, context={"default_region": default_region})
    except ValidationError as exc:
        raise LeadSubmissionError(_summarise(exc)) from None


def _summarise(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        location = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "invalid lead submission: " + "; ".join(parts)


def parse_lead_submissions(
    body: bytes,
    content_type: str,
    *,
    default_region: str = "CN",
    dealer_id: str | None = None,
    default_tz: tzinfo = CHINA_STANDARD_TIME,
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> list[LeadSubmission]:
    """Parse a body that may hold several prospects (ADF allows many per document).

    `default_region` reads phone numbers without a country code, `dealer_id` fills in the
    dealer when the body does not name one, `default_tz` reads ADF times without an offset.
    """
    if len(body) > max_bytes:
        raise LeadSubmissionError(f"submission too large: {len(body)} bytes > {max_bytes}")
    if not body.strip():
        raise LeadSubmissionError("empty submission")
    if _kind(body, content_type) == "json":
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LeadSubmissionError(f"body is not valid JSON: {exc}") from None
        except RecursionError:
            raise LeadSubmissionError("document nested too deeply for the JSON parser") from None
        if not isinstance(data, dict):
            raise LeadSubmissionError("JSON submission must be an object")
        data.pop("format", None)
        return [_validate(data, default_region, dealer_id)]
    try:
        prospects = read_adf(body, default_tz=default_tz)
    except AdfError as exc:
        raise LeadSubmissionError(str(exc)) from None
    return [_validate(p, default_region, dealer_id) for p in prospects]


def parse_lead_submission(
    body: bytes,
    content_type: str,
    *,
    default_region: str = "CN",
    dealer_id: str | None = None,
    default_tz: tzinfo = CHINA_STANDARD_TIME,
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> LeadSubmission:
    """Parse one lead submission (JSON or ADF 1.0 XML) into a normalised LeadSubmission.

    Raises LeadSubmissionError with a reason for oversized, malformed, unsafe or
    uncontactable submissions, and for ADF documents with more than one prospect (use
    `parse_lead_submissions` for those).
    """
    submissions = parse_lead_submissions(
        body,
        content_type,
        default_region=default_region,
        dealer_id=dealer_id,
        default_tz=default_tz,
        max_bytes=max_bytes,
    )
    if len(submissions) != 1:
        raise LeadSubmissionError(
            f"expected one prospect, found {len(submissions)}; use parse_lead_submissions"
        )
    return submissions[0]
