"""The planning service's HTTP application (`uvicorn --factory shuangsui.planning.main:create_app`)."""

from shuangsui.kernel.service_client import ServiceClient
from shuangsui.messaging.platform import app_factory
from shuangsui.planning.api import ROUTERS
from shuangsui.planning.settings import SERVICE, Settings


def _clients(settings: Settings) -> list[ServiceClient]:
    return [ServiceClient.from_settings(settings, SERVICE, "registry", settings.registry_url)]


create_app = app_factory(
    SERVICE,
    title="Planning · 抽查计划",
    description="Annual plans (年度抽查计划), batches (抽查任务) and risk-ratio policies.",
    routers=ROUTERS,
    settings_class=Settings,
    components=_clients,
)
