"""The dashboard's load and filter time in headless Chromium, for ``bench/run.py``.

Needs Playwright for Python and a Chromium (Debian's ``chromium``, or the one named by
``PLANFORGE_CHROMIUM``); neither is installed by install.sh, so the row says it was skipped.
"""

from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

#: After the change or the load: the next frame painted, so layout and paint are counted.
_NEXT_FRAME = "new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"

_CHOOSE = ("async ([name, value]) => {"
           " const select = document.querySelector(`select[name=${name}]`);"
           " const start = performance.now();"
           " select.value = value;"
           " select.dispatchEvent(new Event('change'));"
           f" await {_NEXT_FRAME};"
           " return performance.now() - start; }")


def chromium() -> str | None:
    """The Chromium to drive, or None."""
    return os.environ.get("PLANFORGE_CHROMIUM") or shutil.which("chromium")


def dashboard_times(index: Path, runs: int = 5) -> tuple[float, float, float] | None:
    """Median milliseconds, over ``runs`` fresh pages, from navigation to the first frame after
    the load event, of filtering by one sales person, and of sorting by health; None when
    Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    browser_path = chromium()
    if browser_path is None:
        return None
    loads, filters, sorts = [], [], []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(index.resolve().as_uri(), wait_until="load")
            loads.append(page.evaluate(f"async () => {{ await {_NEXT_FRAME}; "
                                       "return performance.now(); }"))
            seller = page.evaluate(
                "() => document.querySelector('select[name=sales]').options[1].value")
            filters.append(page.evaluate(_CHOOSE, ["sales", seller]))
            page.evaluate(_CHOOSE, ["sales", ""])
            sorts.append(page.evaluate(_CHOOSE, ["sort", "health"]))
            page.close()
        browser.close()
    return statistics.median(loads), statistics.median(filters), statistics.median(sorts)
