"""Registry settings: all from the environment (the README's settings table)."""

from typing import Self

from pydantic import Field, model_validator

from shuangsui.kernel.settings import DatabaseSettings

SERVICE = "registry"


class Settings(DatabaseSettings):
    max_push_bytes: int = Field(
        default=512 * 1024 * 1024,
        description="MAX_PUSH_BYTES — largest bulk push body accepted (413 above it)",
    )
    items_check_seconds: float = Field(
        default=15.0,
        gt=0,
        description="ITEMS_CHECK_SECONDS — how often the worker compares the items in force with "
        "the index (a published list or a version taking effect starts a re-classification)",
    )
    fold_seconds: float = Field(
        default=2.0,
        gt=0,
        description="FOLD_SECONDS — how often the worker folds population-count deltas",
    )
    export_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="EXPORT_IDLE_SECONDS — a population export whose client reads nothing for "
        "this long is ended: its transaction and connection are released",
    )
    export_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="EXPORT_MAX_SECONDS — no population export lasts longer (PostgreSQL's "
        "transaction_timeout ends it)",
    )
    export_concurrency: int = Field(
        default=2,
        ge=1,
        description="EXPORT_CONCURRENCY — exports one registry process streams at once (each "
        "holds EXPORT_PARALLELISM database connections throughout); more are refused with 429",
    )
    export_parallelism: int = Field(
        default=2,
        ge=1,
        description="EXPORT_PARALLELISM — database connections each export reads with, in one "
        "snapshot (PostgreSQL writes the lines of as many ranges of subjects at once)",
    )

    @model_validator(mode="after")
    def _exports_fit_the_pool(self) -> Self:
        held = self.export_concurrency * self.export_parallelism
        if held > self.database_pool_size:
            raise ValueError(
                f"EXPORT_CONCURRENCY × EXPORT_PARALLELISM ({self.export_concurrency} × "
                f"{self.export_parallelism} = {held}) exceeds DATABASE_POOL_SIZE "
                f"({self.database_pool_size}): exports at full tilt would hold every pooled "
                "connection; lower one of the first two or raise the pool"
            )
        return self
