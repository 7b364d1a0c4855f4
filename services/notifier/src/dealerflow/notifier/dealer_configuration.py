"""The notifier's dealer configuration: a dealer's effective policy is the DOMAIN.md
defaults <- the service-wide overrides (``DEALERFLOW_NOTIFIER_POLICY_OVERRIDES``) <- the
dealer's stored overrides (``dealer_policy`` table, ``PUT /v1/dealers/{id}/policy``).

Given to the ServiceDefinition as its ``dealer_configuration``, so use cases get it through
``uc.policy(dealer_id)`` like every service's; the policy endpoints read the effective
policy the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from dealerflow.notifier import repository as repo
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerPolicy, DealerSettings, merge_overrides, policy_with_overrides
from dealerflow.runtime.db import DbConnection

__all__ = ["InvalidDealerPolicy", "StoredDealerConfiguration"]

log = logging.getLogger("dealerflow.notifier")


class InvalidDealerPolicy(ValueError):
    """Overrides with unknown keys or invalid values; ``errors`` says which (the API
    answers 422 with them)."""

    def __init__(self, exc: ValidationError) -> None:
        self.errors = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        super().__init__(f"{len(self.errors)} invalid setting(s)")

    @property
    def problem_extensions(self) -> Mapping[str, Any]:
        return {"errors": self.errors}


@dataclass(frozen=True)
class StoredDealerConfiguration:
    """Per-dealer overrides stored by the notifier over the service-wide ones."""

    service_overrides: Mapping[str, Any] = field(default_factory=dict)
    _service_policy: DealerPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # validated once, at start-up: a bad service-wide override fails the service
        object.__setattr__(self, "_service_policy", policy_with_overrides(self.service_overrides))

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> StoredDealerConfiguration:
        """The configuration of the running service (its service-wide overrides)."""
        return cls(settings.policy_overrides)

    def layered(self, dealer_overrides: Mapping[str, Any] | None) -> DealerPolicy:
        """The policy with ``dealer_overrides`` over the service-wide layer; raises
        :class:`InvalidDealerPolicy`."""
        if not dealer_overrides:
            return self._service_policy
        try:
            return policy_with_overrides(merge_overrides(self.service_overrides, dealer_overrides))
        except ValidationError as exc:
            raise InvalidDealerPolicy(exc) from exc

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The dealer's configuration: its stored policy, default profile and people."""
        return DealerSettings(policy=await self.policy(conn, dealer_id))

    async def policy(self, conn: DbConnection, dealer_id: str) -> DealerPolicy:
        """The dealer's effective policy. Stored overrides that no longer validate (e.g.
        after a service-wide change) are logged and ignored rather than blocking events."""
        stored = await repo.get_policy_overrides(conn, dealer_id)
        try:
            return self.layered(stored)
        except InvalidDealerPolicy:
            log.exception("stored policy of dealer %s is invalid; using defaults", dealer_id)
            return self._service_policy
