"""``geoplanner serve`` in a real headless Chromium, offline: what a coordinator does with it.

The server runs in a thread on 127.0.0.1 and a free port; Chromium resolves no host name, so the page can only
use what the server gives it (the vendored Leaflet files included). Flows: open the app, switch to an LGN, change
2 -> 3 teams and see the consultations served change, force a venue out and see it gone from the timetable, upload
a CSV with a bad row and a hostile name and see the import report, escaped.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from _browser import offline_chromium  # tests/_browser.py
from _ci import need  # tests/_ci.py: skip on a developer machine, fail in CI
from _mapdata import XSS_NAME  # tests/_mapdata.py

from geoplanner.outputs.maps import assets
from geoplanner.pipeline.assets import assets_dir


@pytest.fixture(scope="module")
def server(data_dir):
    import uvicorn

    from geoplanner.serve.app import create_app
    from geoplanner.serve.state import ServerState

    need(not assets.missing_assets(assets_dir()), "Leaflet files not cached: run `geoplanner assets fetch`")
    state = ServerState.load(data_dir.parent / "scenarios", data_dir=data_dir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)
    state.shutdown()


@pytest.fixture(scope="module")
def browser():
    with offline_chromium(allow=("127.0.0.1",)) as driver:  # offline but for the test's own server
        yield driver


def _wait(driver, script: str, timeout: float = 120.0):
    """Return the script's value once it is truthy (the page works asynchronously)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}")


def _served(driver) -> float:
    return float(driver.find_element("css selector", '#measures tr[data-measure="consultations_served"]')
                 .get_attribute("data-value"))  # fmt: skip


def _compute(driver) -> None:
    driver.execute_script("document.querySelector('#result').hidden = true")
    driver.find_element("id", "compute").click()
    _wait(driver, "return document.querySelector('#compute').disabled === false && (!document.querySelector("
                  "'#result').hidden || document.querySelector('#editor-error').textContent)")  # fmt: skip
    assert driver.find_element("id", "editor-error").text == ""


def _timetable_venues(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#timetable tbody tr')).map(r => r.dataset.venue)"
    )


def test_open_switch_lgn_edit_teams_and_force_a_venue_out(server, browser):
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    _wait(browser, "return document.querySelector('#status').textContent === 'klaar'")
    assert browser.execute_script("return typeof window.L === 'object'")  # the vendored Leaflet, offline
    assert browser.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") > 100
    # 3 of about 98 bureaus located: the overview says its "not reached" is no finding (as the report's page 1)
    warning = browser.find_element("id", "incomplete-warning").text
    assert warning.startswith("Geen bevinding") and "niet bereikt door de gekende bureaus" in browser.find_element(
        "id", "area-figures").text  # fmt: skip
    region_rows = len(browser.find_elements("css selector", "#wijken tbody tr"))
    Select(browser.find_element("id", "lgn-select")).select_by_value("1")
    _wait(browser, "return document.querySelector('#area-name').textContent !== 'Brussels Gewest'")
    lgn_rows = browser.find_elements("css selector", "#wijken tbody tr")
    assert 0 < len(lgn_rows) < region_rows
    lgn_rows[0].click()
    assert not browser.find_element("id", "wijk-info").get_attribute("hidden")

    browser.find_element("css selector", '#tabs [data-tab="editor"]').click()
    Select(browser.find_element("id", "base-select")).select_by_value("mobiel_2_teams")
    _wait(browser, "return document.querySelector('[data-key=\"rotation.teams\"]')?.value === '2'")
    _compute(browser)
    two = _served(browser)
    teams = browser.find_element("css selector", 'input[data-key="rotation.teams"]')
    teams.clear()
    teams.send_keys("3")
    _compute(browser)
    three = _served(browser)
    assert three > two  # a third team serves more consultations

    before = _timetable_venues(browser)
    gone = before[0]
    browser.find_element("css selector", f'#timetable button[data-venue="{gone}"]').click()
    assert browser.find_elements("css selector", f'#excluded li[data-id="{gone}"]')
    _compute(browser)
    after = _timetable_venues(browser)
    assert gone not in after and len(after) == len(before)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []  # no script error, no 404


def test_a_bad_edit_shows_its_one_line_next_to_the_field(server, browser):
    browser.get(server)
    _wait(browser, "return document.querySelector('#status').textContent === 'klaar'")
    browser.find_element("css selector", '#tabs [data-tab="editor"]').click()
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "base-select")).select_by_value("mobiel_2_teams")
    _wait(browser, "return document.querySelector('[data-key=\"demand.uptake\"]')")
    uptake = browser.find_element("css selector", 'input[data-key="demand.uptake"]')
    uptake.clear()
    uptake.send_keys("1.5")
    browser.find_element("id", "compute").click()
    msg = _wait(browser, "return document.querySelector('.field-error[data-key=\"demand.uptake\"]').textContent")
    assert msg == "must be > 0 and <= 1, got 1.5"


def test_upload_with_a_bad_row_and_a_hostile_name_shows_the_report_escaped(server, browser, tmp_path):
    csv = tmp_path / "eigen lijst.csv"
    csv.write_text(f'id,name,type,lat,lon\nA1,"{XSS_NAME.replace(chr(34), chr(34) * 2)}",cb,50.85,4.35\n'
                   "A2,Geen punt,cb,abc,4.30\n", encoding="utf-8")  # fmt: skip
    browser.get(server)
    _wait(browser, "return document.querySelector('#status').textContent === 'klaar'")
    browser.find_element("css selector", '#tabs [data-tab="own"]').click()
    browser.find_element("id", "upload-file").send_keys(str(csv))
    browser.find_element("id", "upload-btn").click()
    _wait(browser, "return document.querySelector('#import-report').dataset.ready === '1'")
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('#import-report tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    assert cells[0][:4] == ["A1", XSS_NAME, "ja", "given"]
    assert cells[1][2] == "nee" and cells[1][5] == "lat is not a number: 'abc'"
    # shown as text, never run or parsed as markup
    assert browser.execute_script("return [window.__xss, window.__xss2, window.__xss3]") == [None, None, None]
    assert not browser.find_elements("css selector", "#import-report img, #import-report script")
    # the list is a service set of this session now: the editor offers it
    browser.find_element("css selector", '#tabs [data-tab="editor"]').click()
    options = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-key=\"services.open\"] option')).map(o => o.textContent)"
    )
    assert "eigen lijst: eigen lijst.csv" in options
