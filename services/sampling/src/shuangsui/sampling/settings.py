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
    bootstrap_batch_size: int = Field(
        default=5_000,
        ge=1,
        description="BOOTSTRAP_BATCH_SIZE — export lines written per statement batch when a "
        "fresh read model loads",
    )
