"""Sampling settings: all from the environment (docs/sampling.md's settings table)."""

from pydantic import Field

from shuangsui.kernel.settings import DatabaseSettings

SERVICE = "sampling"


class Settings(DatabaseSettings):
    registry_url: str = Field(
        description="REGISTRY_URL — the registry's API, e.g. http://127.0.0.1:8001 (the subject "
        "export a fresh read model loads from)"
    )
    read_model_max_lag_seconds: float = Field(
        default=300.0,
        gt=0,
        description="READ_MODEL_MAX_LAG_SECONDS — how far behind the registry a read model may "
        "be for a draw to be prepared from it",
    )
    read_model_check_seconds: float = Field(
        default=5.0,
        gt=0,
        description="READ_MODEL_CHECK_SECONDS — how often the worker records how far its "
        "consumers are behind their streams",
    )
    draw_test_mode: bool = Field(
        default=False,
        description="DRAW_TEST_MODE — tests and development only: a draw may be committed "
        "with a `fixed` beacon (DRAW_SPEC §5.3); production leaves it off",
    )
    beacon_deadline_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="BEACON_DEADLINE_SECONDS — how long after a drand round's time the round may "
        "still be accepted (fetched or pushed); a draw whose round is not in by then fails as "
        "`beacon_unavailable`",
    )
    drand_urls: str = Field(
        default="",
        description="DRAND_URLS — comma-separated drand HTTP relays the worker fetches due rounds "
        "from, e.g. https://api.drand.sh,https://drand.cloudflare.com; empty (an offline "
        "deployment): nothing is fetched and an operator pushes each round",
    )
    verification_max_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="VERIFICATION_MAX_BYTES — the largest `{bundle, result}` upload the public "
        "verification accepts (413 above); a larger draw is verified with `shuangsui draw verify`",
    )
    bootstrap_batch_size: int = Field(
        default=5_000,
        ge=1,
        description="BOOTSTRAP_BATCH_SIZE — export lines written per statement batch when a "
        "fresh read model loads",
    )

    @property
    def drand_relays(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.drand_urls.split(",") if url.strip()]
