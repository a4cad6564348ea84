"""The registry service's HTTP application (`uvicorn --factory shuangsui.registry.main:create_app`)."""

from shuangsui.messaging.platform import app_factory
from shuangsui.registry.api import ROUTERS
from shuangsui.registry.settings import SERVICE, Settings

create_app = app_factory(
    SERVICE,
    title="Registry · 一单两库",
    description="The item lists (抽查事项清单), the subject directory (检查对象名录库) and the inspector directory (执法检查人员名录库).",
    routers=ROUTERS,
    settings_class=Settings,
)
