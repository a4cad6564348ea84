"""Planning's event consumers (`python -m shuangsui.planning.worker`)."""

from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.consumer import Subscription
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.messaging.runtime import run_consumers
from shuangsui.planning.service.probes import record_probe
from shuangsui.planning.settings import SERVICE, Settings

SUBSCRIPTIONS = [
    Subscription(SERVICE, "probes", "registry", {"registry.probe.sent.v1": record_probe}),
]


def main() -> None:
    settings = load_settings(Settings, SERVICE)
    run_consumers(
        settings,
        SERVICE,
        SUBSCRIPTIONS,
        lambda database: new_unit_of_work(database, settings.province_token, SERVICE),
    )


if __name__ == "__main__":
    main()
