"""`shuangsui draw …` is `python -m shuangsui.drawspec …`: same arguments, output and exit codes."""

from __future__ import annotations

import typer

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def register(app: typer.Typer) -> None:
    @app.command(
        "draw",
        context_settings=PASS_THROUGH,
        add_help_option=False,
        help="Compute, verify and prepare IDS-1 draws: compute FILE | verify BUNDLE RESULT | "
        "commitment … (`shuangsui draw --help` for details).",
    )
    def draw(ctx: typer.Context) -> None:
        from shuangsui.drawspec.cli import main

        raise typer.Exit(main(list(ctx.args)))
