"""The viewer's page and the admin page in headless Chromium against the live service."""

from __future__ import annotations

import time

import pytest

from artwork.event_store import EventStore

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 10_000


def stored_events(db, decision_id: str, types: set[str], timeout_s: float = 5.0) -> set[str]:
    """The event types stored for ``decision_id``, polled until ``types`` are all there."""
    deadline = time.monotonic() + timeout_s
    while True:
        with EventStore(db) as store:
            found = {e.type for e in store.events(decision_id)}
        if types <= found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def open_home(page, user: str | None = None):
    page.goto(f"/?user={user}" if user else "/")
    page.wait_for_selector(".card img", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "[...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=TIMEOUT_MS,
    )
    return page.locator(".card")


def test_home_shows_rows_of_cards_with_their_images_and_records_impressions(
    page, live_service, screenshot
):
    cards = open_home(page)
    assert page.locator("section.row").count() >= 2
    first = cards.first
    name = first.locator(".name").inner_text()
    assert first.locator("img").get_attribute("alt") == name
    assert first.locator("button.play").get_attribute("aria-label") == f"Play {name}"
    decision_id = first.get_attribute("data-decision-id")
    assert "impression" in stored_events(live_service.db, decision_id, {"impression"})
    screenshot(page, "home")


def test_switching_viewer_shows_their_rows(page, live_service):
    open_home(page)
    viewer = page.locator("#viewer-select option").nth(1).get_attribute("value")
    page.select_option("#viewer-select", viewer)
    page.wait_for_function(
        f"document.getElementById('status').textContent.endsWith('for {viewer}')",
        timeout=TIMEOUT_MS,
    )
    assert f"user={viewer}" in page.url
    decision_id = page.locator(".card").first.get_attribute("data-decision-id")
    with EventStore(live_service.db) as store:
        assert store.decision(decision_id).user_id == viewer


def test_clicking_a_card_records_a_click_and_a_play(page, live_service):
    card = open_home(page, "v0002").nth(1)
    decision_id = card.get_attribute("data-decision-id")
    card.locator("button.play").click()
    page.wait_for_selector(".card.played", timeout=TIMEOUT_MS)
    assert {"click", "play"} <= stored_events(live_service.db, decision_id, {"click", "play"})
    assert "Playing" in page.locator("#toast").inner_text()


def test_why_popover_and_like(page, live_service):
    card = open_home(page, "v0003").first
    decision_id = card.get_attribute("data-decision-id")
    card.locator("button.why").click()
    popover = page.locator("#why")
    popover.wait_for(state="visible", timeout=TIMEOUT_MS)
    with EventStore(live_service.db) as store:
        decision = store.decision(decision_id)
    assert "chosen by" in page.locator("#why-text").inner_text()
    assert page.locator("#why-policy").inner_text() == decision.policy
    assert page.locator("#why-version").inner_text() == decision.policy_version
    assert page.locator("#why-propensity").inner_text() == f"{decision.propensity:.3f}"
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden", timeout=TIMEOUT_MS)

    like = card.locator("button.like")
    like.click()
    page.wait_for_function(
        "el => el.getAttribute('aria-pressed') === 'true'", arg=like.element_handle()
    )
    assert "like" in stored_events(live_service.db, decision_id, {"like"})


def test_an_api_error_is_shown_not_thrown(page):
    page.route("**/v1/home?*", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"detail": "boom", "errors": []}'
    ))  # fmt: skip
    page.goto("/?user=v0001")
    status = page.locator("#status.error")
    status.wait_for(timeout=TIMEOUT_MS)
    assert "Could not load the home page: boom" in status.inner_text()


def test_admin_page_draws_tables_and_the_learning_curve(page, screenshot):
    open_home(page, "v0004").first.locator("button.play").click()
    page.wait_for_selector(".card.played", timeout=TIMEOUT_MS)
    page.goto("/admin")
    page.wait_for_selector("#curve svg circle", timeout=TIMEOUT_MS)
    assert page.locator("#take tbody tr").count() > 0
    assert page.locator("#tags tbody tr").count() == 6  # one per title
    assert "No off-policy estimate" in page.locator("#ope-note").inner_text()
    assert "decisions and" in page.locator("#status").inner_text()
    screenshot(page, "admin")
