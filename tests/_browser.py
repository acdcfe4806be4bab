"""A headless Chromium with no network, for the tests that open pages the way a person does.

Every host name fails to resolve (``--host-resolver-rules``), so a page can only use what it carries or what a
local server gives it; ``allow`` keeps addresses reachable (the test's own server on 127.0.0.1).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from _ci import need  # tests/_ci.py: skip on a developer machine, fail in CI

__all__ = ["offline_chromium"]


@contextmanager
def offline_chromium(allow: tuple[str, ...] = ()) -> Iterator[object]:
    """Yield a selenium Chrome driver (headless, no network but ``allow``); quit it and remove its profile after."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    need(
        bool(chromium and driver_bin),
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gp-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    rules = "MAP * ~NOTFOUND" + "".join(f", EXCLUDE {host}" for host in allow)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
        # No network: every host name fails to resolve.
        f"--host-resolver-rules={rules}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(driver_bin))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
