"""Planning settings: all from the environment (docs/operations.md's settings table)."""

from pydantic import Field

from shuangsui.kernel.settings import DatabaseSettings

SERVICE = "planning"


class Settings(DatabaseSettings):
    registry_url: str = Field(
        description="REGISTRY_URL — the registry's API, e.g. http://127.0.0.1:8001 (population "
        "counts for previews)"
    )
