"""The consent store's rules: the newest recorded change per purpose and channel, and how
it wins over the contact snapshot in the contact policy."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.care_enums import ConsentSource, SuppressionPolicy
from dealerflow.contracts.contact import ConsentSnapshot
from dealerflow.contracts.enums import ConsentPurpose, Locale, MessageChannel
from dealerflow.notifier.domain import decide_send
from dealerflow.notifier.domain_consent import (
    ConsentChange,
    UnsubscribeTarget,
    current_consents,
    is_opt_out_reply,
    recorded_consent,
    unsubscribe_token,
    verify_unsubscribe_token,
    with_unsubscribe_link,
)
from dealerflow.policy import DealerPolicy

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
MARKETING, SERVICE = ConsentPurpose.MARKETING, ConsentPurpose.SERVICE
SMS, EMAIL = MessageChannel.SMS, MessageChannel.EMAIL


def change(
    n: int,
    purpose: ConsentPurpose,
    channel: MessageChannel | None,
    granted: bool,
    *,
    at: datetime | None = None,
) -> ConsentChange:
    return ConsentChange(
        consent_id=f"c{n}",
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=ConsentSource.STAFF,
        changed_at=at or T0 + timedelta(minutes=n),
    )


def test_nothing_recorded_leaves_it_to_the_snapshot() -> None:
    assert recorded_consent([], MARKETING, SMS) is None
    assert recorded_consent([change(1, SERVICE, None, False)], MARKETING, SMS) is None
    assert recorded_consent([change(1, MARKETING, EMAIL, False)], MARKETING, SMS) is None


def test_the_newest_change_for_the_channel_or_every_channel_decides() -> None:
    every_off, sms_on = change(1, MARKETING, None, False), change(2, MARKETING, SMS, True)
    assert recorded_consent([every_off], MARKETING, SMS) is False
    assert recorded_consent([sms_on, every_off], MARKETING, SMS) is True  # order of input
    assert recorded_consent([every_off, sms_on], MARKETING, EMAIL) is False
    every_on = change(3, MARKETING, None, True)
    assert recorded_consent([every_off, sms_on, every_on], MARKETING, EMAIL) is True
    sms_off = change(4, MARKETING, SMS, False)
    assert recorded_consent([every_on, sms_off], MARKETING, SMS) is False


def test_at_the_same_instant_the_channels_own_change_wins() -> None:
    every_on = change(1, MARKETING, None, True, at=T0)
    sms_off = change(2, MARKETING, SMS, False, at=T0)
    assert recorded_consent([sms_off, every_on], MARKETING, SMS) is False


def test_current_consents_keep_the_newest_per_purpose_and_channel() -> None:
    changes = [
        change(1, MARKETING, SMS, True),
        change(2, SERVICE, None, True),
        change(3, MARKETING, SMS, False),
        change(4, MARKETING, None, True),
    ]
    assert [c.consent_id for c in current_consents(changes)] == ["c4", "c3", "c2"]


def _decide(consent: ConsentSnapshot, recorded: bool | None) -> SuppressionPolicy | None:
    return decide_send(
        key="k",
        purpose=MARKETING,
        channel=SMS,
        consent=consent,
        marketing_sent_in_window=0,
        already_sent_keys=(),
        now=datetime(2025, 3, 3, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        policy=DealerPolicy(),
        recorded_consent=recorded,
    ).suppressed_by


def test_a_recorded_change_wins_over_the_snapshot() -> None:
    all_in = ConsentSnapshot(service=True, marketing=True)
    none = ConsentSnapshot(service=True, marketing=False, opted_out_channels=[SMS])
    assert _decide(all_in, False) is SuppressionPolicy.OPTED_OUT
    assert _decide(none, True) is None  # granted since the snapshot was taken
    assert _decide(none, None) is SuppressionPolicy.OPTED_OUT  # the snapshot speaks
    assert _decide(all_in, None) is None


@pytest.mark.parametrize(
    "text", ["TD", "td", " T ", "STOP", "Stop", "退订", "退 订", "n", "ＴＤ", "t\nd"]
)
def test_opt_out_replies_ignore_case_and_spaces(text: str) -> None:
    assert is_opt_out_reply(text)


@pytest.mark.parametrize("text", ["", "TD please", "don't stop", "OK", "不要退订", "NO"])
def test_other_texts_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out_reply(text)


TARGET = UnsubscribeTarget("D.001-x", uuid.UUID("00000000-0000-0000-0000-0000000000c1"), SMS)


def test_an_unsubscribe_token_names_its_target_and_only_verifies_with_its_key() -> None:
    token = unsubscribe_token(b"key-1", TARGET)
    assert verify_unsubscribe_token(b"key-1", token) == TARGET
    assert verify_unsubscribe_token(b"key-2", token) is None
    assert unsubscribe_token(b"key-1", TARGET) == token  # no expiry: the same link


@pytest.mark.parametrize("token", ["", "abc", "a.b", "....", "%%%.%%%"])
def test_malformed_tokens_are_refused(token: str) -> None:
    assert verify_unsubscribe_token(b"key-1", token) is None


def test_a_token_for_another_target_cannot_be_forged_from_one() -> None:
    token = unsubscribe_token(b"key-1", TARGET)
    other = UnsubscribeTarget(TARGET.dealer_id, TARGET.customer_id, EMAIL)
    payload = unsubscribe_token(b"key-1", other).split(".")[0]
    assert verify_unsubscribe_token(b"key-1", f"{payload}.{token.split('.')[1]}") is None


def test_the_link_line_is_in_the_messages_locale() -> None:
    assert with_unsubscribe_link("Hi", "https://x/u", Locale.EN) == "Hi\nUnsubscribe: https://x/u"
    assert with_unsubscribe_link("您好", "https://x/u", Locale.ZH_CN).endswith("退订：https://x/u")
