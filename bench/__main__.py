"""`make bench`: run the benchmarks and write their figures to docs/performance.md."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from bench import chart_page, college_import, concurrency, load, my_week, pages, sync_push, weight

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
    load_before = os.getloadavg()[0]
    rows = sync_push.run(postgres)
    weeks, loads, charts, page_rows = [], [], [], []
    targets = [("SQLite", f"sqlite:////tmp/xuegong-bench-college-{os.getpid()}.sqlite3")]
    if postgres:
        targets.append(("PostgreSQL", postgres))
    for name, url in targets:  # the college is loaded once per database, for both
        entries, load_s = my_week.college_with_a_semester(url)
        weeks += my_week.run(name, url, entries, load_s)
        charts += chart_page.run(name, url)
        # before the pushes of concurrency.run add to the college
        page_rows += pages.run(name, url, two_workers=name == "PostgreSQL")
        if name == "SQLite":  # what a phone downloads does not depend on the database
            page_weight = weight.run(url)
        loads += concurrency.run(name, url)
        sync_push.reset(url)
    import_rows, reads, imports = college_import.run(postgres)
    lines = [
        f"Measured by `make bench` on {date.today().isoformat()}, on this project's machine"
        f" ({os.cpu_count()} cores), in one run; load average {load_before:.1f} at the start"
        f" and {os.getloadavg()[0]:.1f} at the end (other work on the machine slows every"
        " figure).",
        "Figures are entries per second; compare the ratios, not the absolute numbers.",
        "",
        *sync_push.figures(rows),
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
    lines += [
        "",
        f"Many phones at once on one app process, on the same college: {concurrency.READERS}"
        f" clients for {concurrency.SECONDS} s on `/` and on `/sync/pull` (first page, 200"
        f" entries), {concurrency.PUSHERS} pushers on `/sync/push` ({load.PUSH_BATCH} new dorm"
        " visits a push, each pusher its own counselor and device); target: 0 errors:",
        "",
        "| database | requests on | clients | requests/s | p50 | p99 | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for db, what, clients, tally in loads:
        lines.append(
            f"| {db} | {what} | {clients} | {tally.rate():,.0f} | {tally.percentile(50):.0f} ms"
            f" | {tally.percentile(99):.0f} ms | {tally.error_count} |"
        )
    lines += import_figures(import_rows, reads, imports)
    lines += chart_page.figures(charts)
    lines += pages.figures(page_rows)
    lines += weight.figures(page_weight)
    write_figures("\n".join(lines))
    print(f"wrote the figures into {DOC}")
    return 0 if all(ok for *_, ok in charts) else 1


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
