"""The planning service's HTTP application (`uvicorn --factory shuangsui.planning.main:create_app`)."""

from shuangsui.messaging.platform import app_factory
from shuangsui.planning.api import ROUTERS
from shuangsui.planning.settings import SERVICE, Settings

create_app = app_factory(
    SERVICE,
    title="Planning · 抽查计划",
    description="Annual plans (年度抽查计划), batches (抽查任务) and risk-ratio policies.",
    routers=ROUTERS,
    settings_class=Settings,
)
