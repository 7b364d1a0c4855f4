"""Contact policy: consent, opt-out, quiet hours, marketing cap, never twice."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.care_enums import SuppressionPolicy
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.notifier.domain import SendDecision, SendVerdict, decide_send
from dealerflow.notifier.domain_alerts import channel_candidates
from dealerflow.notifier.domain_contact import channels_for_purpose
from dealerflow.policy import DealerPolicy, policy_with_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2025, 3, 3, 12, 0, tzinfo=SHANGHAI)
ALL_IN = ConsentSnapshot(service=True, marketing=True)


def decide(**overrides: Any) -> SendDecision:
    args: dict[str, Any] = {
        "key": "delivery:DL5:first-maintenance",
        "purpose": ConsentPurpose.SERVICE,
        "channel": MessageChannel.SMS,
        "consent": ALL_IN,
        "marketing_sent_in_window": 0,
        "already_sent_keys": set(),
        "now": NOON,
        "policy": DealerPolicy(),
    }
    args.update(overrides)
    return decide_send(**args)


def test_consented_service_message_in_daytime_is_sent() -> None:
    decision = decide()
    assert decision == SendDecision(SendVerdict.SEND)
    assert decision.allowed


def test_the_same_reminder_is_never_sent_twice() -> None:
    decision = decide(already_sent_keys={"delivery:DL5:first-maintenance"})
    assert decision.suppressed_by is SuppressionPolicy.DUPLICATE
    assert not decision.allowed


def test_opt_out_of_a_channel_is_immediate_for_every_purpose() -> None:
    consent = ConsentSnapshot(service=True, marketing=True, opted_out_channels=[MessageChannel.SMS])
    assert decide(consent=consent).suppressed_by is SuppressionPolicy.OPTED_OUT
    assert decide(consent=consent, channel=MessageChannel.WECHAT).allowed


@pytest.mark.parametrize(
    ("purpose", "consent"),
    [
        (ConsentPurpose.SERVICE, ConsentSnapshot(service=False, marketing=True)),
        (ConsentPurpose.MARKETING, ConsentSnapshot(service=True, marketing=False)),
    ],
)
def test_consent_is_per_purpose(purpose: ConsentPurpose, consent: ConsentSnapshot) -> None:
    assert decide(purpose=purpose, consent=consent).suppressed_by is SuppressionPolicy.NO_CONSENT


def test_no_address_for_the_channel() -> None:
    assert decide(has_address=False).suppressed_by is SuppressionPolicy.NO_CONTACT_ADDRESS


def test_marketing_is_capped_at_two_per_window_but_service_is_not() -> None:
    marketing = {"purpose": ConsentPurpose.MARKETING}
    assert decide(marketing_sent_in_window=1, **marketing).allowed
    capped = decide(marketing_sent_in_window=2, **marketing)
    assert capped.suppressed_by is SuppressionPolicy.MARKETING_CAP
    assert decide(marketing_sent_in_window=5).allowed
    generous = policy_with_overrides({"contact": {"marketing_cap": 3}})
    assert decide(marketing_sent_in_window=2, policy=generous, **marketing).allowed


def test_marketing_stops_after_declined_invitation_or_during_a_complaint() -> None:
    marketing = {"purpose": ConsentPurpose.MARKETING}
    declined = decide(invitation_declined=True, **marketing)
    assert declined.suppressed_by is SuppressionPolicy.INVITATION_DECLINED
    complaining = decide(open_complaint=True, **marketing)
    assert complaining.suppressed_by is SuppressionPolicy.OPEN_COMPLAINT
    assert decide(invitation_declined=True, open_complaint=True).allowed  # service still goes


def test_quiet_hours_defer_to_eight_local() -> None:
    late = datetime(2025, 3, 3, 22, 15, tzinfo=SHANGHAI)
    decision = decide(now=late)
    assert decision.verdict is SendVerdict.DEFER
    assert decision.deferred_until == datetime(2025, 3, 4, 0, 0, tzinfo=UTC)  # 08:00 local


def test_suppression_wins_over_deferral() -> None:
    late = datetime(2025, 3, 3, 22, 15, tzinfo=SHANGHAI)
    opted_out = ConsentSnapshot(service=False, marketing=False)
    assert decide(now=late, consent=opted_out).verdict is SendVerdict.SUPPRESS


def test_channel_fallback_takes_the_first_channel_the_customer_can_get_it_on() -> None:
    from dealerflow.notifier.domain_contact import first_open_channel

    order = [MessageChannel.SMS, MessageChannel.WECHAT, MessageChannel.EMAIL]
    sms_out = ConsentSnapshot(service=True, marketing=True, opted_out_channels=[MessageChannel.SMS])
    # opted out of SMS in the snapshot: WeChat
    channel, decision = first_open_channel(order, lambda c: decide(channel=c, consent=sms_out))
    assert (channel, decision.allowed) == (MessageChannel.WECHAT, True)
    # withdrawn on SMS and on WeChat (consent store), no e-mail address: nothing left, the
    # reason of the customer's own channel
    recorded = {MessageChannel.SMS: False, MessageChannel.WECHAT: False}

    def nothing_left(c: MessageChannel) -> SendDecision:
        return decide(
            channel=c,
            recorded_consent=recorded.get(c),
            has_address=c is not MessageChannel.EMAIL,
        )

    channel, decision = first_open_channel(order, nothing_left)
    assert (channel, decision.suppressed_by) == (MessageChannel.SMS, SuppressionPolicy.OPTED_OUT)
    # a grant recorded on e-mail wins over a snapshot without marketing consent
    no_marketing = ConsentSnapshot(service=True, marketing=False)

    def granted_on_email(c: MessageChannel) -> SendDecision:
        return decide(
            channel=c,
            purpose=ConsentPurpose.MARKETING,
            consent=no_marketing,
            recorded_consent=True if c is MessageChannel.EMAIL else None,
        )

    assert first_open_channel(order, granted_on_email)[0] is MessageChannel.EMAIL


def test_reasons_of_every_channel_answer_at_once() -> None:
    from dealerflow.notifier.domain_contact import first_open_channel

    order = [MessageChannel.SMS, MessageChannel.WECHAT]
    asked: list[MessageChannel] = []

    def duplicate(c: MessageChannel) -> SendDecision:
        asked.append(c)
        return decide(channel=c, already_sent_keys={"delivery:DL5:first-maintenance"})

    channel, decision = first_open_channel(order, duplicate)
    assert (channel, decision.suppressed_by) == (MessageChannel.SMS, SuppressionPolicy.DUPLICATE)
    assert asked == [MessageChannel.SMS]
    night = datetime(2025, 3, 3, 23, 0, tzinfo=SHANGHAI)
    channel, decision = first_open_channel(order, lambda c: decide(channel=c, now=night))
    assert (channel, decision.verdict) == (MessageChannel.SMS, SendVerdict.DEFER)
    with pytest.raises(ValueError, match="no channel"):
        first_open_channel([], duplicate)


def test_marketing_goes_only_on_the_dealer_s_marketing_channels() -> None:
    default = DealerPolicy()
    assert channels_for_purpose(default, ConsentPurpose.SERVICE) == default.contact.channels
    assert channels_for_purpose(default, ConsentPurpose.MARKETING) == ["sms", "email"]
    own = policy_with_overrides(
        {"contact": {"channels": ["email", "wechat", "sms"], "marketing_channels": ["sms"]}}
    )
    assert channels_for_purpose(own, ConsentPurpose.MARKETING) == ["sms"]
    wechat_only = policy_with_overrides({"contact": {"channels": ["wechat"]}})
    assert channels_for_purpose(wechat_only, ConsentPurpose.MARKETING) == []
    assert channels_for_purpose(wechat_only, ConsentPurpose.SERVICE) == ["wechat"]


def test_a_wechat_customer_s_marketing_message_falls_back_past_wechat() -> None:
    contact = ContactSnapshot.model_validate(
        {
            "name": "Li",
            "phone": "+8613900000001",
            "wechat_openid": "o-li",
            "preferred_channel": "wechat",
            "consent": {"service": True, "marketing": True, "opted_out_channels": []},
        }
    )
    policy = DealerPolicy()
    marketing = channels_for_purpose(policy, ConsentPurpose.MARKETING)
    order = policy.contact.channel_order
    assert channel_candidates(contact, marketing, order) == [
        MessageChannel.SMS,
        MessageChannel.EMAIL,
    ]
    assert channel_candidates(contact, policy.contact.channels, order)[0] is MessageChannel.WECHAT
