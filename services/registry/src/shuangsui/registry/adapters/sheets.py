"""Sheet files, CSV (UTF-8 or GB18030) and XLSX: an uploaded one read into text cells with their
line numbers, and a list written out as one. Which columns mean what is each domain's own."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from shuangsui.registry.domain.sheets import Sheet

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnreadableSheet(ValueError):
    """The body is not a file of the declared type."""


def read_sheet(media_type: str, body: bytes, max_rows: int) -> Sheet:
    if media_type == CSV:
        return _read_csv(body, max_rows)
    if media_type == XLSX:
        return _read_xlsx(body, max_rows)
    raise UnreadableSheet(f"{media_type} is not a sheet format")


class TooManyRows(ValueError):
    pass


def _decode(body: bytes) -> str:
    if b"\x00" in body:
        raise UnreadableSheet("the body is binary, not CSV text")
    # Offices export from Excel as UTF-8 with a BOM, or in the legacy GB18030 (GBK) code page.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableSheet("the CSV is neither UTF-8 nor GB18030 text")


def _read_csv(body: bytes, max_rows: int) -> Sheet:
    reader = csv.reader(io.StringIO(_decode(body), newline=""), strict=True)
    try:
        header = next(reader, [])
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not rows
            if len(rows) == max_rows:
                raise TooManyRows(f"more than {max_rows} rows")
            rows.append(row)
            # line_num counts physical lines, so a quoted multi-line cell keeps later lines true.
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise UnreadableSheet(f"not valid CSV at line {reader.line_num}: {exc}") from None
    return Sheet(header=header, rows=rows, lines=lines)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a code typed as a number: 330106.0 → 330106
    return str(cell)


def _read_xlsx(body: bytes, max_rows: int) -> Sheet:
    from openpyxl import load_workbook  # imported here: only spreadsheet uploads pay for it

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableSheet(f"not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = [_text(c) for c in next(values, ())]
        rows: list[list[str]] = []
        lines: list[int] = []
        for number, row in enumerate(values, start=2):
            cells = [_text(c) for c in row]
            if not any(c.strip() for c in cells):
                continue
            if len(rows) == max_rows:
                raise TooManyRows(f"more than {max_rows} rows")
            rows.append(cells)
            lines.append(number)
    finally:
        book.close()
    return Sheet(header=header, rows=rows, lines=lines)


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
