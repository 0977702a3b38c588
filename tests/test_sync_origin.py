"""Behind a reverse proxy that ends TLS, the phone's pages come from the public address
(XUEGONG_BASE_URL) while the app is spoken to over plain http: both are the app's own origin."""

from __future__ import annotations

from tests.sync_helpers import push


def test_a_push_from_the_public_address_is_accepted(login, settings):
    response = push(login("counselor1"), [], headers={"origin": settings.base_url})
    assert response.status_code == 200


def test_a_push_from_the_public_host_on_another_scheme_is_refused(login, settings):
    other = settings.base_url.replace("http://", "https://", 1)
    assert push(login("counselor1"), [], headers={"origin": other}).status_code == 403
