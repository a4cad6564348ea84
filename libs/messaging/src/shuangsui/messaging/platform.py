"""What a service with a database and events is made of: app, unit of work, components."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import APIRouter, FastAPI, Request

from shuangsui.kernel.app import Component, create_service_app
from shuangsui.kernel.calendar_check import CalendarCoverage
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.settings import DatabaseSettings, load_settings
from shuangsui.messaging.broker import NatsLink
from shuangsui.messaging.outbox import outbox_writer


def new_unit_of_work(database: Database, province_token: str, service: str) -> UnitOfWork:
    return UnitOfWork(database, event_writer=outbox_writer(province_token, service))


def create_platform_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: DatabaseSettings,
    routers: Sequence[APIRouter],
    components: Sequence[Component] = (),
) -> FastAPI:
    """`components`: what else the app starts and closes, e.g. clients of other services."""
    database = Database.from_settings(settings)
    broker = NatsLink(settings.nats_url, f"{service}-api")
    return create_service_app(
        service=service,
        title=title,
        description=description,
        settings=settings,
        routers=routers,
        components=[database, broker, CalendarCoverage(), *components],
    )


def unit_of_work(request: Request) -> UnitOfWork:
    """FastAPI dependency: a fresh unit of work whose commit also writes the outbox."""
    app = request.app
    return new_unit_of_work(
        app.state.database, app.state.settings.province_token, app.state.service
    )


S = TypeVar("S", bound=DatabaseSettings)


def app_factory(
    service: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    settings_class: type[S] = DatabaseSettings,  # type: ignore[assignment]
    components: Callable[[S], Sequence[Component]] = lambda _settings: (),
) -> Callable[[], FastAPI]:
    """`create_app` for uvicorn's `--factory`: settings are read when the app is built, and
    `components(settings)` builds what else the app runs (clients of other services)."""

    def create_app() -> FastAPI:
        settings = load_settings(settings_class, service)
        return create_platform_app(
            service=service,
            title=title,
            description=description,
            settings=settings,
            routers=routers,
            components=components(settings),
        )

    return create_app
