"""The Standard Webhooks signature against the specification's own example."""

from __future__ import annotations

import pytest

from dealerflow.runtime.webhooks import (
    WebhookVerificationError,
    secret_key,
    signature,
    signed_headers,
    verify,
)

#: the example of the Standard Webhooks specification (and of its reference libraries)
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification_example() -> None:
    key = secret_key(SPEC_SECRET)
    assert signature(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    headers = signed_headers(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        "content-type": "application/json",
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    # any change of id, time or body changes the signature
    assert signature(key, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY) != SPEC_SIGNATURE
    assert signature(key, "msg_other", SPEC_TIMESTAMP, SPEC_BODY) != SPEC_SIGNATURE
    assert signature(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + b" ") != SPEC_SIGNATURE


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="],
    ids=["no prefix", "not base64", "too short"],
)
def test_a_secret_not_in_the_standard_form_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match=r"secret|key"):
        secret_key(secret)


def test_a_receiver_verifies_the_example_and_refuses_changes() -> None:
    key = secret_key(SPEC_SECRET)
    headers = signed_headers(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert verify(key, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10) == SPEC_ID
    # several signatures (a key being rotated): one match is enough
    rotated = {**headers, "webhook-signature": f"v1,AAAA {SPEC_SIGNATURE}"}
    assert verify(key, rotated, SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(key, headers, SPEC_BODY + b" ", now=SPEC_TIMESTAMP)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(key, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 301)
    with pytest.raises(WebhookVerificationError, match="headers"):
        verify(key, {"webhook-id": SPEC_ID}, SPEC_BODY, now=SPEC_TIMESTAMP)
