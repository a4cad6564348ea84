"""The sampling service's HTTP application (`uvicorn --factory shuangsui.sampling.main:create_app`)."""

from shuangsui.messaging.platform import app_factory
from shuangsui.sampling.api import ROUTERS
from shuangsui.sampling.settings import SERVICE, Settings

create_app = app_factory(
    SERVICE,
    title="Sampling · 随机抽取",
    description="Verifiable random draws of subjects and inspector teams (双随机抽取).",
    routers=ROUTERS,
    settings_class=Settings,
)
