"""One measured figure beside its baseline, and the table / JSON file they end up in."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS_FILE = Path(__file__).parent / "results.json"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str | None
    baseline_value: float | None
    higher_is_better: bool

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return round(self.value / self.baseline_value, 3)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def report(figures: list[Figure], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Shuangsui benchmarks (each beside its baseline, same run)")
    for column in ("benchmark", "value", "baseline", "baseline value", "ratio"):
        table.add_column(column, justify="right" if column != "benchmark" else "left")
    for f in figures:
        table.add_row(
            f.name,
            f"{f.value:,.1f} {f.unit}",
            f.baseline_name or "—",
            f"{f.baseline_value:,.1f} {f.unit}" if f.baseline_value is not None else "—",
            f"{f.ratio:.2f}" if f.ratio is not None else "—",
        )
    console.print(table)
    RESULTS_FILE.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n")
    console.print(f"written to {RESULTS_FILE}")
