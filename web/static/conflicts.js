// The conflict list after a decision (/conflicts?resolved=<entry id>): the phone's copy of
// that entry, waiting in the outbox as 冲突, is settled now and leaves the phone.
const resolved = document.querySelector("[data-conflict-resolved]")?.dataset.conflictResolved;
if (resolved && window.xgOutbox) {
  window.xgOutbox.list().then(async (items) => {
    for (const item of items) {
      if (item.id === resolved && item.status === "conflict") await window.xgOutbox.remove(item.id);
    }
  });
}
