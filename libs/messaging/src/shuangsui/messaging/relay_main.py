"""`shuangsui-relay`: run the outbox relay of the service named by SERVICE_NAME."""

from __future__ import annotations

from pydantic import Field

from shuangsui.kernel import faults
from shuangsui.kernel.settings import DatabaseSettings, load_settings
from shuangsui.messaging.runtime import run_relay


class RelaySettings(DatabaseSettings):
    service_name: str = Field(description="SERVICE_NAME — the service whose outbox to relay")
    relay_batch_size: int = Field(
        default=1000, ge=1, description="RELAY_BATCH_SIZE — rows per publish"
    )
    relay_test_mode: bool = Field(
        default=False,
        description="RELAY_TEST_MODE — tests only: the relay honours the crash points "
        "SHUANGSUI_TEST_FAULTS names (`relay.acked`); production leaves it off, and the variable "
        "is then ignored",
    )


def main() -> None:
    settings = load_settings(RelaySettings, "relay")
    faults.arm(test_mode=settings.relay_test_mode)
    run_relay(settings, settings.service_name, settings.relay_batch_size)


if __name__ == "__main__":
    main()
