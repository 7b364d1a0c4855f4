"""Configuration of the dealers service (env prefix ``DEALERFLOW_DEALERS_``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class DealersSettings(ServiceSettings):
    """Settings of the dealers service; shared ``DEALERFLOW_*`` variables are the fallback.

    The environment supplies only the defaults every dealer starts from:
    ``policy_overrides`` (a partial DealerPolicy) and ``settings_overrides`` (a partial
    DealerSettings over it); dealer groups and stores override them through the API."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_DEALERS_", extra="ignore")

    service_name: str = "dealers"
    http_port: int = 8006
    #: Partial DealerSettings (JSON in ``DEALERFLOW_DEALERS_SETTINGS_OVERRIDES``) layered
    #: over ``policy_overrides`` for every dealer.
    settings_overrides: dict[str, Any] = Field(default_factory=dict)

    def environment_layers(self) -> tuple[Mapping[str, Any], ...]:
        """The environment's layers of every dealer's configuration, lowest first."""
        return ({"policy": dict(self.policy_overrides)}, dict(self.settings_overrides))
