"""Thumbs in a dark corridor (issue 15): every interactive element on the pages of an evening
round is at least 44 × 44 CSS px at 390 × 844 — links, buttons, fields, the menu, the tab
bar, and checkboxes, radio buttons and the photo input through their label (the label is what one
taps)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.models import SchoolClass
from tests.browser.conftest import log_in
from tests.browser.test_door_visit import room_to_visit
from tests.conftest import user_named

MIN_PX = 44
ROUNDING_PX = 0.5  # layout gives fractions of a pixel: 43.6 is a 44 px box

# the box of each visible interactive element; a checkbox or radio is measured by its label
MEASURE = """() => {
  const shown = (el) => {
    if (el.closest('[hidden], [aria-hidden="true"], details:not([open]) > :not(summary)')) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && el.getClientRects().length > 0;
  };
  const targets = document.querySelectorAll(
    'a[href], button, select, textarea, summary, input:not([type=hidden])');
  const out = [];
  for (const el of targets) {
    if (!shown(el)) continue;
    // a photo's file input is invisible inside its 拍照 chip: the chip is what one taps
    const choice = el.matches('input[type=checkbox], input[type=radio], input[type=file]');
    const target = choice ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    out.push({
      what: `${target.tagName.toLowerCase()} "${(target.textContent || target.name || '').trim().slice(0, 30)}"`,
      width: box.width, height: box.height,
    });
  }
  return out;
}"""


def too_small(page: Page) -> list[str]:
    boxes = page.evaluate(MEASURE)
    assert boxes, f"nothing interactive measured on {page.url}"
    return [
        f"{b['what']}: {b['width']:.0f}×{b['height']:.0f}"
        for b in boxes
        if b["width"] < MIN_PX - ROUNDING_PX or b["height"] < MIN_PX - ROUNDING_PX
    ]


def own_class_id(db) -> int:
    counselor = user_named(db, "counselor1")
    class_id = db.scalar(
        select(SchoolClass.id)
        .where(SchoolClass.counselor_id == counselor.id)
        .order_by(SchoolClass.id)
        .limit(1)
    )
    db.rollback()
    return class_id


@pytest.fixture
def counselor(page: Page) -> Page:
    log_in(page, "counselor1")
    return page


def test_the_home_page_has_no_target_under_44_px(counselor: Page):
    counselor.goto("/")
    expect(counselor.locator(".tabbar")).to_be_visible()
    assert too_small(counselor) == []


def test_the_menu_opens_with_targets_of_44_px(counselor: Page):
    counselor.goto("/")
    counselor.locator(".menu-narrow summary").click()
    expect(counselor.locator(".menu-narrow nav").get_by_role("link", name="请假")).to_be_visible()
    assert too_small(counselor) == []


def test_the_door_form_has_no_target_under_44_px(counselor: Page, db):
    room = room_to_visit(db, "counselor1")
    counselor.goto(f"/rooms/{room.id}/visit")
    expect(counselor.locator(".resident").first).to_be_visible()
    assert too_small(counselor) == []


def test_the_attendance_form_has_no_target_under_44_px(counselor: Page, db):
    counselor.goto(f"/classes/{own_class_id(db)}/attendance/new")
    expect(counselor.locator("[data-mark-button]").first).to_be_visible()
    assert too_small(counselor) == []


def test_the_due_page_has_no_target_under_44_px(counselor: Page):
    counselor.goto("/due")
    expect(counselor.get_by_role("heading", name="待办联系")).to_be_visible()
    assert too_small(counselor) == []


def test_the_tab_bar_covers_no_content(counselor: Page):
    """Scrolled to the end, the last element of the page ends above the fixed tab bar."""
    counselor.goto("/due")
    counselor.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    bar_top = counselor.locator(".tabbar").bounding_box()["y"]
    footer = counselor.locator("footer.bottom").bounding_box()
    assert footer["y"] + footer["height"] <= bar_top + ROUNDING_PX
