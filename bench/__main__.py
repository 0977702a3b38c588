"""`make bench`: run the benchmarks and write their figures to docs/performance.md."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from bench import college_import, my_week, sync_push

DOC = Path(__file__).parent.parent / "docs" / "performance.md"
# make bench rewrites only what lies between these two lines
START = "<!-- bench figures: start -->"
END = "<!-- bench figures: end -->"


def main() -> int:
    postgres = os.environ.get(
        "XUEGONG_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/xuegong_bench"
    )
    from tests.postgres import main as ensure_postgres

    if ensure_postgres(postgres) != 0:
        postgres = None
    rows = sync_push.run(postgres)
    weeks = my_week.run(postgres)
    import_rows, reads, imports = college_import.run(postgres)
    rates = {(db, label): rate for db, label, rate in rows}
    pouch = rates.get(("memory", "pouchdb-server _bulk_docs"))
    lines = [
        f"Measured by `make bench` on {date.today().isoformat()}, on this project's machine"
        f" ({os.cpu_count()} cores), in one run.",
        "Figures are entries per second; compare the ratios, not the absolute numbers.",
        "",
        "| database | app `/sync/push` | raw core insert | app / raw | app / pouchdb-server |",
        "|---|---|---|---|---|",
    ]
    for db in ("SQLite", "PostgreSQL"):
        app, raw = rates.get((db, "app /sync/push")), rates.get((db, "raw core insert"))
        if app is None:
            continue
        vs_pouch = f"{app / pouch:.2f}×" if pouch else "n/a"
        lines.append(f"| {db} | {app:,.0f} | {raw:,.0f} | {app / raw:.2f}× | {vs_pouch} |")
    lines += [
        "",
        f"pouchdb-server 4.2 `_bulk_docs` (in memory, `-m`): {pouch:,.0f} entries/s."
        if pouch
        else "pouchdb-server: not measured (node not found).",
    ]
    lines += [
        "",
        f'本周 ("my week") of `counselor1` at `college` size with {my_week.WEEKS} weeks of records'
        f" for every counselor and class teacher, {my_week.REQUESTS} requests after"
        f" {my_week.WARM_UP} to warm up (target: median under 50 ms for `/week`):",
        "",
        "| database | page | median | 90th percentile | entries in the database | demo load |",
        "|---|---|---|---|---|---|",
    ]
    for db, path, median, p90, entries, load_s in weeks:
        lines.append(
            f"| {db} | `{path}` | {median:.1f} ms | {p90:.1f} ms | {entries:,} | {load_s:.1f} s |"
        )
    lines += import_figures(import_rows, reads, imports)
    write_figures("\n".join(lines))
    print(f"wrote the figures into {DOC}")
    return 0


def import_figures(rows, reads, imports) -> list[str]:
    sheets = ", ".join(f"{n:,} {name}" for name, n in rows.items() if name != "bytes")
    lines = [
        "",
        f"College import (`xuegong import`, `/admin/import`): one workbook of {sheets}"
        f" ({rows['bytes'] / 1e6:.1f} MB) into an empty database (target: check + apply under 60 s):",
        "",
        "| database | check (preview) | check + apply | the same workbook again |",
        "|---|---|---|---|",
    ]
    for db, t in imports:
        lines.append(
            f"| {db} | {t['check (preview)']:.1f} s | {t['check + apply']:.1f} s"
            f" | {t['again, unchanged']:.1f} s |"
        )
    lines += [
        "",
        f"Reading the 15,000-row 学生 sheet: openpyxl (read_only) {reads['openpyxl (read_only)']:.2f} s,"
        f" python-calamine {reads['python-calamine']:.2f} s"
        f" ({reads['openpyxl (read_only)'] / reads['python-calamine']:.0f}× faster; the import uses it).",
    ]
    return lines


def write_figures(figures: str) -> None:
    """Replace the block between the markers in docs/performance.md; the notes stay."""
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{figures}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
