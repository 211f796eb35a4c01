"""The dashboard in a real browser: its filters and sorting, and that every link opens a file.

Runs where Playwright for Python and a Chromium are installed (Debian's ``chromium``, or the one
named by ``PLANFORGE_CHROMIUM``); install.sh installs neither, so elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from planforge.build import BuildOptions, build_workspace
from planforge.workspace import find_workspace

from .conftest import AS_OF, WEEK

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = os.environ.get("PLANFORGE_CHROMIUM") or shutil.which("chromium")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


@pytest.fixture
def page(examples: Path) -> Iterator[Any]:
    build_workspace(find_workspace(examples),
                    BuildOptions(as_of=AS_OF, week=WEEK, formats=("md", "html")))
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page()
        tab.goto((examples / "output" / "index.html").as_uri())
        yield tab
        browser.close()


def _shown(page: Any) -> list[str]:
    return list(page.eval_on_selector_all(
        "#projects tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.id)"))


def test_filters_and_sorting_work_in_the_page(page: Any) -> None:
    every = ["acme-crm", "globex-portal", "northwind-pipeline-revamp", "xinghe-market-push"]
    assert sorted(_shown(page)) == every
    page.select_option("select[name=sales]", "Jonas Weber")
    assert _shown(page) == ["acme-crm", "globex-portal"]
    assert page.text_content("#count") == "2 of 4 projects"
    # The customer dates of the projects filtered out are hidden with them.
    dates = page.eval_on_selector_all(
        "#dates tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.project)")
    assert set(dates) <= {"acme-crm", "globex-portal"} and dates
    page.select_option("select[name=sales]", "")
    page.select_option("select[name=health]", "amber")
    assert _shown(page) == ["acme-crm"]
    page.select_option("select[name=health]", "")
    page.select_option("select[name=sort]", "health")
    assert _shown(page)[0] == "acme-crm"  # amber before the green ones
    page.select_option("select[name=customer]", page.eval_on_selector(
        "select[name=customer]", "s => s.options[1].value"))
    assert len(_shown(page)) == 1
    # A filtered view survives in the address, to bookmark or send.
    assert "customer=" in page.evaluate("() => location.hash")


def test_every_link_opens_a_file(page: Any) -> None:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    anchors = [urlsplit(h).fragment for h in hrefs if urlsplit(h).path.endswith("/index.html")]
    files = [Path(unquote(urlsplit(h).path)) for h in hrefs
             if not urlsplit(h).path.endswith("/index.html")]
    assert len(files) > 20 and anchors
    for path in files:
        assert path.is_file(), path
    for anchor in anchors:  # a customer date links to its project's row
        assert page.query_selector(f"[id='{anchor}']") is not None, anchor
