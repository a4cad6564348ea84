"""The `shuangsui` command: one entry point for people, a thin shell over the libraries."""

from __future__ import annotations

import typer

from shuangsui.cli import dev, draw

app = typer.Typer(
    help="Shuangsui (双随) — the double-random, one-public inspection platform.",
    no_args_is_help=True,
)
app.add_typer(dev.app, name="dev")
draw.register(app)

if __name__ == "__main__":
    app()
