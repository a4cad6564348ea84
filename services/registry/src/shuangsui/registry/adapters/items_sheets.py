"""Spreadsheet files ↔ rows of cells: CSV (UTF-8 or GB18030) and XLSX (openpyxl).

Only the file formats live here; which columns mean what is `domain.items_sheet`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from typing import Any

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000


class SheetUnreadable(ValueError):
    """The body is not a file of the declared type (answered 415), or has no header row."""


Rows = list[tuple[int, dict[str, str]]]


def read_sheet(content_type: str, body: bytes) -> tuple[list[str], Rows]:
    """(headers, [(row number, {header: cell})]); row numbers as a spreadsheet shows them."""
    if content_type == CSV_TYPE:
        table = _csv_table(body)
    elif content_type == XLSX_TYPE:
        table = _xlsx_table(body)
    else:
        raise SheetUnreadable(f"expected {CSV_TYPE} or {XLSX_TYPE}, got {content_type or 'none'}")
    if not table:
        raise SheetUnreadable("the file has no header row")
    headers = [h.strip() for h in table[0]]
    rows: Rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines between blocks are common in hand-kept sheets
        rows.append(
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)})
        )
    if len(rows) > MAX_ROWS:
        raise SheetUnreadable(f"at most {MAX_ROWS} rows per file")
    return headers, rows


def _csv_table(body: bytes) -> list[list[str]]:
    # Excel in China saves "CSV" as GB18030 unless told otherwise; UTF-8 (with or without BOM)
    # is what every other tool writes. A GB18030 reading of UTF-8 bytes would succeed as
    # nonsense, so UTF-8 is tried first.
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetUnreadable("CSV must be UTF-8 or GB18030 text") from None
    if "\x00" in text:
        raise SheetUnreadable("this is not a CSV text file")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise SheetUnreadable(f"malformed CSV: {exc}") from None


def _xlsx_table(body: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported on use: only this path needs it

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetUnreadable(f"not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    # A 14-digit code typed into Excel becomes a number; give back its digits, not 1.2E13.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    # The BOM makes Excel open the Chinese headers as UTF-8 instead of the local code page.
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(headers))
    for row in rows:
        # Written as text so codes keep their leading zeros and all 14 digits.
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
