"""The sampling service's HTTP application (`uvicorn --factory shuangsui.sampling.main:create_app`)."""

from fastapi import FastAPI

from shuangsui.kernel import faults
from shuangsui.messaging.platform import app_factory
from shuangsui.sampling.api import ROUTERS
from shuangsui.sampling.settings import SERVICE, Settings

_create_app = app_factory(
    SERVICE,
    title="Sampling · 随机抽取",
    description="Verifiable random draws of subjects and inspector teams (双随机抽取).",
    routers=ROUTERS,
    settings_class=Settings,
)


def create_app() -> FastAPI:
    """The app; in test mode (DRAW_TEST_MODE) with the crash points SHUANGSUI_TEST_FAULTS names
    armed (docs/sampling.md, "Crash recovery")."""
    app = _create_app()
    faults.arm(test_mode=app.state.settings.draw_test_mode)
    return app
