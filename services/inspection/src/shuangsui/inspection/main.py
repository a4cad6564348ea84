"""The inspection service's HTTP application (`uvicorn --factory shuangsui.inspection.main:create_app`)."""

from shuangsui.inspection.api import ROUTERS
from shuangsui.inspection.settings import SERVICE, Settings
from shuangsui.messaging.platform import app_factory

create_app = app_factory(
    SERVICE,
    title="Inspection · 检查实施",
    description="Inspection tasks, records, results (检查结果) and follow-ups.",
    routers=ROUTERS,
    settings_class=Settings,
)
