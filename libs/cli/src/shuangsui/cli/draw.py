"""`shuangsui draw …`: the IDS-1 verifier and tools, unchanged from `python -m shuangsui.drawspec`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Compute and verify IDS-1 draws (the same as `python -m shuangsui.drawspec`).",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)


@app.callback(
    invoke_without_command=True,
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    },
)
def draw(ctx: typer.Context) -> None:
    """compute FILE | verify BUNDLE RESULT | commitment … (run with --help for details)."""
    from shuangsui.drawspec.cli import main

    raise typer.Exit(main(list(ctx.args)))
