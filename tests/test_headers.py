"""What every response tells the browser: features it may not use, what it may not keep."""

import pytest
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_forbids_browser_features_it_never_uses(client):
    policy = client.get(reverse("account_login")).headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert client.get("/healthz").headers["Permissions-Policy"] == policy


def test_signed_in_pages_are_private_and_never_stored(client, world):
    client.force_login(world.head)
    for url in (
        reverse("meetings:home"),
        reverse("meetings:group_detail", args=[world.group.code]),
        reverse("topics:meeting_detail", args=[world.meeting.code]),
        reverse("accounts:profile"),
    ):
        cache_control = client.get(url).headers["Cache-Control"]
        directives = {d.strip() for d in cache_control.split(",")}
        assert {"private", "no-store"} <= directives, (url, cache_control)
        assert "public" not in directives


def test_responses_carry_a_request_id_and_keep_a_valid_one_given(client):
    given = "0f6d3c1e9a7b4c2d8e5f6a7b8c9d0e1f"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given).headers["X-Request-ID"] == given
    made_up = client.get("/healthz", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"]
    assert len(made_up) == 32 and made_up.isalnum()


def test_django_cache_is_redis_shared_by_every_process(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache.set("shared-check", "ett värde", 10)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.exists("tvargrupp:1:shared-check") == 1
