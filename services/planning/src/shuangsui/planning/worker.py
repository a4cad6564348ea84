"""Planning's event consumers (`python -m shuangsui.planning.worker`)."""

from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.consumer import Subscription
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.messaging.runtime import run_consumers
from shuangsui.planning.service import batch_draws, catalogue
from shuangsui.planning.service.probes import record_probe
from shuangsui.planning.settings import SERVICE, Settings

SUBSCRIPTIONS = [
    Subscription(SERVICE, "probes", "registry", {"registry.probe.sent.v1": record_probe}),
    Subscription(
        SERVICE,
        "catalogue",
        "registry",
        {
            "registry.org.upserted.v1": catalogue.apply_org_upserted,
            "registry.item_list.published.v1": catalogue.apply_list_published,
            # v2 only: it holds all of v1, and subscribing to both would apply each item twice.
            "registry.item.upserted.v2": catalogue.apply_item_upserted,
        },
    ),
    # The batch's life as its draws go: drawing, drawn, or drawable again (DOMAIN §5.2).
    Subscription(SERVICE, "draws", "sampling", batch_draws.HANDLERS),
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
