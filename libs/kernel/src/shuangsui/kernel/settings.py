"""Settings every service reads from its environment (and only from there)."""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(SystemExit):
    """Start-up stops with a message naming each bad or missing environment variable."""

    def __init__(self, service: str, problems: list[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{service}: cannot start, the configuration is incomplete:\n{lines}")
        self.problems = problems


class BaseServiceSettings(BaseSettings):
    """What every process of the platform needs. Field names map to upper-case variables."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    province: str = Field(
        description="PROVINCE — 2-digit GB/T 2260 province code this deployment serves, e.g. 33 "
        "(Zhejiang); `national` for the national platform.",
    )
    auth_issuer: str = Field(description="AUTH_ISSUER — expected `iss` of access tokens")
    auth_audience: str = Field(
        default="shuangsui", description="AUTH_AUDIENCE — expected `aud` of access tokens"
    )
    auth_jwks_url: str | None = Field(
        default=None, description="AUTH_JWKS_URL — where the issuer publishes its signing keys"
    )
    auth_jwks_path: str | None = Field(
        default=None, description="AUTH_JWKS_PATH — a local JWKS file (development issuer)"
    )
    log_level: str = Field(default="INFO", description="LOG_LEVEL — DEBUG, INFO, WARNING, ERROR")
    log_format: str = Field(default="json", description="LOG_FORMAT — json or console")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTEL_EXPORTER_OTLP_ENDPOINT — enables OpenTelemetry tracing when set",
    )
    # Calls to other services (kernel.service_client), under the principal system:<service>.
    service_token_url: str | None = Field(
        default=None,
        description="SERVICE_TOKEN_URL — the identity provider's OAuth 2.0 token endpoint; "
        "this service gets its tokens for calls to other services there (client credentials)",
    )
    service_client_id: str | None = Field(
        default=None,
        description="SERVICE_CLIENT_ID — this service's client id at the identity provider "
        "(default system:<service>)",
    )
    service_client_secret: SecretStr | None = Field(
        default=None, description="SERVICE_CLIENT_SECRET — its client secret"
    )
    service_scopes: str = Field(
        default="",
        description="SERVICE_SCOPES — space-separated scopes to ask for; the identity provider "
        "grants at most those configured for the client",
    )
    service_signing_key_path: str | None = Field(
        default=None,
        description="SERVICE_SIGNING_KEY_PATH — local runs only: sign service tokens with the "
        "development issuer's key instead of asking a token endpoint",
    )
    service_signing_key_id: str | None = Field(
        default=None, description="SERVICE_SIGNING_KEY_ID — the `kid` of that key"
    )
    service_call_timeout_seconds: float = Field(
        default=10.0, gt=0, description="SERVICE_CALL_TIMEOUT_SECONDS — per call to a service"
    )
    service_call_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="SERVICE_CALL_ATTEMPTS — tries of an idempotent call before giving up",
    )

    @field_validator("province")
    @classmethod
    def _province_code(cls, value: str) -> str:
        if value != "national" and not re.fullmatch(r"\d{2}", value):
            raise ValueError("must be a 2-digit province code such as 33, or `national`")
        return value

    @property
    def province_token(self) -> str:
        """The `<province>` part of event subjects: `p33`, or `national`."""
        return self.province if self.province == "national" else f"p{self.province}"


class DatabaseSettings(BaseServiceSettings):
    """A service with its own database that publishes and consumes events."""

    nats_url: str = Field(description="NATS_URL — the JetStream server, e.g. nats://127.0.0.1:4222")
    database_url: str = Field(
        description="DATABASE_URL — this service's own PostgreSQL database, "
        "postgresql://user:password@host:port/dbname",
    )
    database_pool_size: int = Field(default=10, description="DATABASE_POOL_SIZE")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @property
    def async_database_url(self) -> str:
        _scheme, rest = self.database_url.split("://", 1)
        return f"postgresql+asyncpg://{rest}"


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], service: str) -> S:
    """Read settings from the environment; turn pydantic's report into one clear message."""
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            variable = str(err["loc"][0]).upper() if err["loc"] else "?"
            if not err["loc"]:  # a rule across settings: its message names them
                problems.append(str(err["msg"]).removeprefix("Value error, "))
            elif err["type"] == "missing":
                problems.append(f"{variable} is not set ({_describe(cls, variable)})")
            else:
                problems.append(f"{variable}: {err['msg']}")
        raise ConfigurationError(service, problems) from None


def _describe(cls: type[BaseSettings], variable: str) -> str:
    field = cls.model_fields.get(variable.lower())
    return (field.description or "required") if field is not None else "required"
