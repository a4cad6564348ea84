"""Settings of the local stack (`shuangsui dev up`), all overridable by environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("registry", "planning", "sampling", "inspection", "disclosure")

# What each service may do when it calls another (its service principal's scopes). In
# production the identity provider holds this table, as the client's granted scopes; the
# local stack grants exactly these and nothing else (docs/operations.md, "Service calls").
SERVICE_GRANTS: dict[str, tuple[str, ...]] = {
    "registry": (),
    "planning": ("registry:population:read",),
    "sampling": ("registry:subjects:export", "registry:inspectors:export"),
    "inspection": (),
    "disclosure": (),
}


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHUANGSUI_", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="SHUANGSUI_DATA_DIR")
    province: str = Field(default="33", description="SHUANGSUI_PROVINCE — 2-digit code")
    pg_port: int = Field(default=55432, description="SHUANGSUI_PG_PORT")
    nats_port: int = Field(default=4222, description="SHUANGSUI_NATS_PORT")
    gateway_port: int = Field(default=8000, description="SHUANGSUI_GATEWAY_PORT")
    registry_port: int = Field(default=8001, description="SHUANGSUI_REGISTRY_PORT")
    planning_port: int = Field(default=8002, description="SHUANGSUI_PLANNING_PORT")
    sampling_port: int = Field(default=8003, description="SHUANGSUI_SAMPLING_PORT")
    inspection_port: int = Field(default=8004, description="SHUANGSUI_INSPECTION_PORT")
    disclosure_port: int = Field(default=8005, description="SHUANGSUI_DISCLOSURE_PORT")
    durable: bool = Field(default=True, description="SHUANGSUI_DURABLE — fsync the database")
    demo_subjects: int = Field(
        default=20_000, ge=0, description="SHUANGSUI_DEMO_SUBJECTS — demo province size (0: none)"
    )
    demo_inspectors: int = Field(
        default=300, ge=0, description="SHUANGSUI_DEMO_INSPECTORS — demo officers (0: none)"
    )

    def port_of(self, service: str) -> int:
        port: int = getattr(self, f"{service}_port")
        return port

    def url_of(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port_of(service)}"
