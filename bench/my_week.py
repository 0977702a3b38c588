"""本周 at college size: the "my week" page of a counselor, with a semester (20 weeks) of
generated records for every counselor and class teacher, over HTTP against the running app.

Reports the median and 90th percentile of the page's answer time, in milliseconds.
"""

from __future__ import annotations

import statistics
import time

from bench.live import LiveApp
from bench.sync_push import reset
from server import demo
from server.db import make_engine, upgrade

WEEKS = 20
WARM_UP = 5
REQUESTS = 100
PAGES = ("/week", "/")  # 本周 on its own, and the home page that shows it with the rest


def college_with_a_semester(url: str) -> tuple[int, float]:
    reset(url)
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = demo.load(engine, size="college", seed=1, weeks=WEEKS)
    took = time.perf_counter() - started
    engine.dispose()
    return counts["entries"], took


def answer_times(url: str, path: str) -> list[float]:
    with LiveApp(url) as app:
        app.log_in("counselor1")
        for _ in range(WARM_UP):
            app.get(path)
        times = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            app.get(path)
            times.append((time.perf_counter() - started) * 1000)
    return times


def run(name: str, url: str, entries: int, load_s: float) -> list[tuple]:
    """(database, page, median ms, p90 ms, entries, load seconds) per page, on a loaded
    college (`college_with_a_semester`)."""
    rows = []
    for path in PAGES:
        times = answer_times(url, path)
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        rows.append((name, path, median, p90, entries, load_s))
        print(f"{name:10} {path:6} median {median:6.1f} ms  p90 {p90:6.1f} ms "
              f"({entries} entries, loaded in {load_s:.1f} s)", flush=True)  # fmt: skip
    return rows
