"""Example of the dealers event: store "sh-pudong-01" of group "acme-auto" imports China's
2026 Spring Festival dates and names a stand-in for its sales manager.

The configuration is written out by hand (contracts do not depend on the policy library);
it is abridged to the settings this store changed, where a real event carries every
setting with its default. tests/contracts checks that it is a valid `DealerSettings`.
"""

from __future__ import annotations

from typing import Any

from dealerflow.contracts.events import DomainEvent
from dealerflow.contracts.events import dealers as dl
from dealerflow.contracts.example_data.common import ADVISOR, CONSULTANT, DEALER_ID, at

GROUP_ID = "acme-auto"

_DAY = [{"opens": "08:30:00", "closes": "18:00:00"}]
_SPRING_FESTIVAL_2026 = [f"2026-02-{day}" for day in range(15, 24)]

CONFIGURATION: dict[str, Any] = {
    "profile": {
        "name": "Acme Auto Shanghai Pudong",
        "group_id": GROUP_ID,
        "address": {
            "line1": "No. 1888 Zhangyang Road",
            "line2": "",
            "city": "Shanghai",
            "province": "Shanghai",
            "postcode": "200135",
            "country": "CN",
        },
    },
    "policy": {
        "calendar": {
            "time_zone": "Asia/Shanghai",
            "business_hours": {
                "mon": _DAY,
                "tue": _DAY,
                "wed": _DAY,
                "thu": _DAY,
                "fri": _DAY,
                "sat": [{"opens": "09:00:00", "closes": "17:00:00"}],
                "sun": [],
            },
            "holidays": _SPRING_FESTIVAL_2026,
            "open_on_holidays": False,
            "makeup_working_days": ["2026-02-14", "2026-02-28"],
            "makeup_day_hours": _DAY,
            "working_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        },
        "contact": {"default_locale": "zh-CN", "channels": ["wechat", "sms"]},
        "leads": {
            "first_contact": {
                "online": {
                    "first_contact": {"duration": "PT10M", "mode": "business_hours"},
                    "thank_you_message": None,
                }
            },
            "assignment_strategy": "open_load",
        },
        "service": {"labour_rate_per_hour": "320.00", "maintenance_interval_km": 10000},
        "sales": {"discount_approver_role": "sales_manager", "quote_valid_days": 7},
    },
    "people": {
        "staff": [
            {"staff_id": CONSULTANT, "name": "李娜", "roles": ["consultant"]},
            {"staff_id": ADVISOR, "name": "王强", "roles": ["advisor"]},
            {
                "staff_id": "sm-chen-jie",
                "name": "陈杰",
                "roles": ["sales_manager"],
                "away_from": "2026-03-02",
                "away_until": "2026-03-06",
                "replaced_by": "gm-zhao-min",
            },
            {"staff_id": "svm-liu-yang", "name": "刘洋", "roles": ["service_manager"]},
            {"staff_id": "cr-sun-li", "name": "孙丽", "roles": ["customer_relations"]},
            {"staff_id": "gm-zhao-min", "name": "赵敏", "roles": ["gm"]},
        ],
        "oem_region": {
            "name": "East China region office",
            "staff_id": "oem-east-01",
            "webhook_url": "https://oem.example.cn/hooks/dealer-alerts",
        },
    },
}
"""The effective configuration of the example store (abridged; see the module docstring)."""


def dealers_examples() -> list[DomainEvent]:
    return [
        dl.DealerConfigured(
            dealer_id=DEALER_ID,
            group_id=GROUP_ID,
            occurred_at=at(1, 1, 30),
            configuration_version=12,
            configuration=CONFIGURATION,
            changed_by="gm-zhao-min",
            changed_sections=["calendar", "people"],
        ),
    ]
