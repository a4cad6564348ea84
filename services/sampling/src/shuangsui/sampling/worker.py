"""Sampling's event consumers (`python -m shuangsui.sampling.worker`)."""

from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.consumer import Subscription
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.messaging.runtime import run_consumers
from shuangsui.sampling.service import batches, inspectors
from shuangsui.sampling.settings import SERVICE, Settings

SUBSCRIPTIONS = [
    Subscription(
        SERVICE,
        "inspectors",
        "registry",
        {
            "registry.inspector.upserted.v1": inspectors.apply_inspector_upserted,
            "registry.inspector.conflict_declared.v1": inspectors.apply_conflict_declared,
        },
    ),
    Subscription(
        SERVICE,
        "batches",
        "planning",
        {
            "planning.batch.published.v1": batches.apply_batch_published,
            "planning.batch.cancelled.v1": batches.apply_batch_cancelled,
        },
    ),
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
