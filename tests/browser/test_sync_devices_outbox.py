"""The outbox never reuses a mutation number under one device id (issue 10, point 2): two tabs
saving at once get distinct numbers, and an outbox that lost its counter or was wiped
becomes a new device instead of counting from 1 again under the old id.

Nobody is logged in, so nothing is sent: the items stay in IndexedDB to be read back.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

SAVES_PER_TAB = 25

ready = "() => Boolean(window.xgOutbox && window.idb)"

# start saving in the background and return at once, so two tabs save at the same time
START_SAVING = """(n) => {
  window.saved = (async () => {
    const numbers = [];
    for (let i = 0; i < n; i++) {
      const form = new FormData();
      form.append("_kind", "dorm_visit");
      form.append("room_id", "1");
      form.append("talk_notes", `${i}-${crypto.randomUUID()}`);
      numbers.push((await xgOutbox.add(form)).mutation_no);
    }
    return numbers;
  })();
}"""

STATE = """async () => ({
  device: await xgOutbox.getMeta("device_id"),
  last: await xgOutbox.getMeta("last_mutation_no"),
  numbers: (await xgOutbox.list()).map((item) => item.mutation_no),
})"""

ADD_ONE = """async () => {
  const form = new FormData();
  form.append("_kind", "dorm_visit");
  form.append("room_id", "1");
  form.append("talk_notes", crypto.randomUUID());
  return (await xgOutbox.add(form)).mutation_no;
}"""


def opened(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto("/login")
    page.wait_for_function(ready)
    return page


def test_two_tabs_saving_at_once_never_share_a_number(context: BrowserContext):
    first, second = opened(context), opened(context)
    first.evaluate(START_SAVING, SAVES_PER_TAB)
    second.evaluate(START_SAVING, SAVES_PER_TAB)
    numbers = first.evaluate("() => window.saved") + second.evaluate("() => window.saved")
    assert sorted(numbers) == list(range(1, 2 * SAVES_PER_TAB + 1))
    state = first.evaluate(STATE)
    assert sorted(state["numbers"]) == sorted(numbers) and state["last"] == 2 * SAVES_PER_TAB


def test_a_wiped_outbox_becomes_a_new_device(context: BrowserContext):
    page = opened(context)
    page.evaluate(ADD_ONE)
    page.evaluate(ADD_ONE)
    before = page.evaluate(STATE)
    page.evaluate("() => xgOutbox.wipe()")  # logout on a shared phone, or storage cleared
    assert page.evaluate(ADD_ONE) == 1
    after = page.evaluate(STATE)
    assert after["device"] and after["device"] != before["device"]


def test_an_outbox_that_lost_its_counter_never_counts_again_under_its_device_id(
    context: BrowserContext,
):
    page = opened(context)
    for _ in range(3):
        page.evaluate(ADD_ONE)
    before = page.evaluate(STATE)
    page.evaluate(
        """async () => {
          const db = await idb.openDB("xuegong");
          await db.delete("meta", "last_mutation_no");
          db.close();
        }"""
    )
    number = page.evaluate(ADD_ONE)
    after = page.evaluate(STATE)
    assert after["device"] != before["device"], "numbering restarted under the old device id"
    assert number > max(before["numbers"])  # and above every number still waiting
