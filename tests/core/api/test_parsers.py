"""API bodies have a size limit (DRF reads the stream itself, past Django's upload limit): over it a 413
with a clear message, and nothing stored."""

import json

import pytest

from apps.answers.models import AnswerQuery

pytestmark = pytest.mark.django_db


def test_an_oversized_api_body_is_a_413_and_stores_nothing(api_key_client, settings):
    settings.API_MAX_BODY_BYTES = 2048
    bot = api_key_client("answers")
    body = json.dumps({"question": "退款" * 2000, "channel": "app"})
    response = bot.generic("POST", "/api/v1/answers/", body, content_type="application/json")
    assert response.status_code == 413
    assert "2048" in json.dumps(response.json(), ensure_ascii=False)
    assert not AnswerQuery.objects.exists()


def test_a_body_within_the_limit_is_read_as_usual(api_key_client, settings):
    settings.API_MAX_BODY_BYTES = 2048
    bot = api_key_client("answers")
    response = bot.post("/api/v1/answers/", {"question": "退款多久到账", "channel": "app"}, format="json")
    assert response.status_code == 200
