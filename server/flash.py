"""Confirmation messages that survive a redirect ("已保存", "已批准").

A handler that saves calls `flash(request, "…")` before it redirects; the next page drawn
for that person shows the message once (base.html calls `take`). The message rides in the
encrypted session cookie next to the user id, so any app process shows it; it is a few
dozen characters, and at most `MAX_MESSAGES` wait at once.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection

KEY = "flash"
MAX_MESSAGES = 3  # two saves before a page is drawn (a double submit) still show both


def flash(request: ASGIConnection, message: str) -> None:
    session = request.session if isinstance(request.session, dict) else {}
    if "uid" not in session:  # no session to carry it (logged out): nothing to show it to
        return
    waiting = [m for m in session.get(KEY, []) if m != message][-(MAX_MESSAGES - 1) :]
    request.set_session({**session, KEY: [*waiting, message]})


def take(request: ASGIConnection) -> list[str]:
    """The waiting messages, removed from the session: each is shown once."""
    session = request.scope.get("session")
    if not isinstance(session, dict) or not session.get(KEY):
        return []
    messages = [str(m) for m in session[KEY]][:MAX_MESSAGES]
    request.set_session({k: v for k, v in session.items() if k != KEY})
    return messages
