"""`shuangsui dev …`: the local platform and development tokens."""

from __future__ import annotations

import signal
import sys
import time
from datetime import datetime
from typing import Annotated

import typer

from shuangsui.devstack.config import SERVICES, StackSettings
from shuangsui.devstack.errors import DevstackError
from shuangsui.devstack.issuer import DevIssuer, token_claims
from shuangsui.devstack.stack import Stack

app = typer.Typer(
    help="Run the platform locally and mint development tokens.", no_args_is_help=True
)


def _say(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {message}", flush=True)


@app.command()
def up(
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness")] = 120.0,
) -> None:
    """Start PostgreSQL, NATS, every service, worker and relay; stop them all on Ctrl-C or SIGTERM."""
    settings = StackSettings()
    stack = Stack(settings, say=_say)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.start_infrastructure()
        stack.migrate()
        stack.start_processes()
        _say("waiting for every service to be ready …")
        stack.wait_ready(ready_timeout)
        _load_demo(settings, stack)
        _print_urls(settings, stack)
        while not stopping:
            stack.supervisor.tend()
            time.sleep(0.5)
    except DevstackError as exc:
        _say(f"error: {exc}")
        stack.stop()
        raise typer.Exit(1) from None
    _say("stopping …")
    stack.stop()
    _say("stopped.")


def _load_demo(settings: StackSettings, stack: Stack) -> None:
    if settings.demo_subjects == 0:
        return
    from shuangsui.devstack.demo import DemoProvince, push_demo

    _say(
        f"loading the demo province ({settings.demo_subjects:,} subjects, "
        f"{settings.demo_inspectors:,} inspectors) …"
    )
    token = stack.issuer.token_for(
        roles=["integrator"], region=f"{settings.province}0000",
        scopes=[
            "registry:subjects:push", "registry:risk-classes:push", "registry:inspectors:import",
            "registry:orgs:push",
        ],
        sub="demo-loader",
    )  # fmt: skip
    demo = DemoProvince(
        province=settings.province,
        subjects=settings.demo_subjects,
        inspectors=settings.demo_inspectors,
    )
    totals = push_demo(
        settings.url_of("gateway"),
        token,
        demo,
        national_token=stack.issuer.token_for(
            roles=["national_admin"], region="100000", sub="demo-loader"
        ),
        admin_token=stack.issuer.token_for(
            roles=["provincial_admin"], region=f"{settings.province}0000", sub="demo-loader"
        ),
    )
    _say("demo loaded: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
    from shuangsui.devstack.demo_planning import make_demo_plan

    _say("making the demo plan for this year …")
    plan = make_demo_plan(settings.url_of("gateway"), stack.issuer, demo)
    if plan is None:
        return
    _say(plan.summary())
    from shuangsui.devstack.demo_draws import make_demo_draws
    from shuangsui.drawspec import new_party_secret

    _say("drawing the demo plan's batches (commit-reveal between two departments) …")
    secrets = settings.data_dir.resolve() / "demo-draw-secrets.json"
    draws = make_demo_draws(settings.url_of("gateway"), stack.issuer, demo, plan,
                            new_party_secret, secrets)  # fmt: skip
    if draws is not None:
        _say(draws.summary())


def _print_urls(settings: StackSettings, stack: Stack) -> None:
    _say("the platform is ready:")
    print(
        f"  gateway      {settings.url_of('gateway')}   (API docs: {settings.url_of('gateway')}/docs)"
    )
    for service in SERVICES:
        print(f"  {service:<12} {settings.url_of(service)}")
    print(f"  postgresql   127.0.0.1:{settings.pg_port}   nats {stack.nats.url}")
    print(f"  logs         {stack.logs}")
    print("  a token:     uv run shuangsui dev token --role provincial_admin --region 330000")
    print("press Ctrl-C to stop.", flush=True)


@app.command()
def token(
    role: Annotated[list[str], typer.Option("--role", help="Role code (DOMAIN.md §7); repeatable")],
    region: Annotated[str, typer.Option(help="6-digit GB/T 2260 code, e.g. 330000")],
    org: Annotated[str | None, typer.Option(help="Organisation code")] = None,
    department_type: Annotated[
        str | None, typer.Option(help="market_supervision or a partner type")
    ] = None,
    station: Annotated[str | None, typer.Option(help="Station (所) code")] = None,
    uscc: Annotated[str | None, typer.Option(help="For the enterprise role: its USCC")] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="Integrator scope; repeatable")
    ] = None,
    sub: Annotated[str | None, typer.Option(help="Subject (user or client id)")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 8 * 3600,
) -> None:
    """Print a signed JWT from the development issuer (for local use and tests)."""
    from shuangsui.contracts.regions import validate_region_code

    try:
        validate_region_code(region)
    except ValueError as exc:
        typer.echo(f"error: --region {region!r} is not a GB/T 2260 region code ({exc})", err=True)
        raise typer.Exit(2) from None
    if "enterprise" in role and not uscc:
        typer.echo("error: the enterprise role needs --uscc", err=True)
        raise typer.Exit(2)
    issuer = DevIssuer(StackSettings().data_dir.resolve() / "dev-issuer")
    claims = token_claims(
        roles=role, region=region, sub=sub, org=org, department_type=department_type,
        station=station, uscc=uscc, scopes=scope,
    )  # fmt: skip
    sys.stdout.write(issuer.mint(claims, ttl_seconds=ttl) + "\n")
