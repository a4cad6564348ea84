"""The disclosure service's HTTP application (`uvicorn --factory shuangsui.disclosure.main:create_app`)."""

from shuangsui.disclosure.api import ROUTERS
from shuangsui.disclosure.settings import SERVICE, Settings
from shuangsui.messaging.platform import app_factory

create_app = app_factory(
    SERVICE,
    title="Disclosure · 结果公示",
    description="Public records of plans and results (一公开).",
    routers=ROUTERS,
    settings_class=Settings,
)
