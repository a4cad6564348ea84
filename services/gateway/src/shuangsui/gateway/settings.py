"""Gateway settings: where each service answers; all from the environment."""

from pydantic import Field

from shuangsui.kernel.settings import BaseServiceSettings

SERVICE = "gateway"
ROUTED_SERVICES = ("registry", "planning", "sampling", "inspection", "disclosure")


class Settings(BaseServiceSettings):
    registry_url: str = Field(description="REGISTRY_URL — e.g. http://127.0.0.1:8001")
    planning_url: str = Field(description="PLANNING_URL — e.g. http://127.0.0.1:8002")
    sampling_url: str = Field(description="SAMPLING_URL — e.g. http://127.0.0.1:8003")
    inspection_url: str = Field(description="INSPECTION_URL — e.g. http://127.0.0.1:8004")
    disclosure_url: str = Field(description="DISCLOSURE_URL — e.g. http://127.0.0.1:8005")
    upstream_timeout_seconds: float = Field(
        default=60.0, description="UPSTREAM_TIMEOUT_SECONDS — per proxied request"
    )
    route_table_max_age_seconds: float = Field(
        default=60.0,
        gt=0,
        description="ROUTE_TABLE_MAX_AGE_SECONDS — how long a service's OpenAPI document is "
        "trusted for which operations need a token before it is fetched again",
    )

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in ROUTED_SERVICES}
