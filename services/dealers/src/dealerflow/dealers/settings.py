"""Configuration of the dealers service (env prefix ``DEALERFLOW_DEALERS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class DealersSettings(ServiceSettings):
    """Settings of the dealers service; shared ``DEALERFLOW_*`` variables are the fallback.

    The environment supplies only the defaults every dealer starts from
    (``environment_layers()``: ``policy_overrides``, a partial DealerPolicy, then
    ``dealer_defaults``, a partial DealerSettings); dealer groups and stores override them
    through the API."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_DEALERS_", extra="ignore")

    service_name: str = "dealers"
    http_port: int = 8006
