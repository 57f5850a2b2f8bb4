"""The OpenAPI schema says exactly what the API does: bots are generated from it, and ``make fuzz``
(schemathesis, every check) holds the API to it. These pin the rules that make it so, without a server:

- the patterns the schema shows are the ones the fields enforce, and mean the same in ECMA 262 and Python;
- what a pattern admits, the services behind it accept (versions, date-times, questions);
- the API refuses what the schema forbids (empty query values, ``stale=1``, ``page=0``…) with a 400;
- every error body is ``{detail, code, errors}`` with flat field paths; ids no item can have are a JSON 404;
- a well-formed request naming what does not exist is a 404, one the resource's state rules out a 409.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.answers.api.views import QUESTION_PATTERN, WORD_CHARS
from apps.answers.text import normalize_for_retrieval
from apps.catalog.models import Release
from apps.conversations.models import Conversation
from apps.conversations.payload import parse_conversation
from apps.core.api.fields import (
    DATE_TIME_PATTERN,
    SPACE_CHARS,
    TRIMMED_PATTERN,
    VERSION_PATTERN,
    StrictDateTimeField,
)
from apps.core.api.pagination import MAX_PAGE_SIZE, PageSerializer
from apps.core.api.serializers import flat_errors
from apps.core.versions import validate_version
from tests.factories import ProductFactory, published_article


# --- the patterns ------------------------------------------------------------------------------
def _class_members(char_class: str) -> list[str]:
    """The characters of a character class body written with ``\\uHHHH``/``\\xHH`` ranges and literals."""
    member = re.compile(f"[{char_class}]").fullmatch
    return [chr(i) for i in range(0x110000) if member(chr(i))]


def test_the_space_class_is_what_str_strip_removes():
    assert "".join(_class_members(SPACE_CHARS)) == "".join(chr(i) for i in range(0x110000) if chr(i).isspace())


@given(st.text(max_size=8) | st.sampled_from([" a", "a ", "\u3000a", "a\n", "\x00", "a\x00b", "", "a b"]))
def test_the_trimmed_pattern_admits_exactly_stripped_text_without_nul(value):
    admitted = re.search(TRIMMED_PATTERN, value) is not None
    assert admitted == (bool(value) and value == value.strip() and "\x00" not in value)


@given(st.from_regex(VERSION_PATTERN, fullmatch=True))
def test_every_version_the_pattern_admits_is_a_version(value):
    validate_version(value)


def test_the_version_pattern_refuses_what_the_services_would_and_more():
    for value in ["five", "5.3.0\n", " 5.3.0", "1.2.3.4.5", "1" * 10, "5.3.0.post1", ""]:
        assert not re.search(VERSION_PATTERN, value), value


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(DATE_TIME_PATTERN, fullmatch=True))
def test_every_real_date_time_the_pattern_admits_is_taken_and_shown(value):
    try:
        real = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30: the format (date-time) rules it out, and so does the field
        with pytest.raises(Exception, match=r"(?i)datetime|date"):
            StrictDateTimeField().run_validation(value)
        return
    taken = StrictDateTimeField().run_validation(value)
    assert taken == real
    shown = timezone.localtime(taken)  # in the portal's time zone, without overflowing
    assert shown.utcoffset().total_seconds() % 60 == 0  # an offset RFC 3339 can write (not local mean time)
    message = {"id": "m1", "role": "customer", "sent_at": value}
    parse_conversation({"channel": "wechat", "external_id": "c-1", "messages": [message]})


def test_the_date_time_pattern_refuses_what_is_not_rfc_3339():
    for value in ["2026-11-01 10:00:00+08:00", "2026-11-01T10:00:00", "2026-11-01", "2026-11-01t10:00:00z", "x"]:
        assert not re.search(DATE_TIME_PATTERN, value), value
    for value in ["1969-12-31T23:59:59Z", "1900-06-01T00:00:00+08:00", "9999-01-01T00:00:00Z", "2026-11-01T24:00:00Z"]:
        assert not re.search(DATE_TIME_PATTERN, value), value
    for value in ["1970-01-01T00:00:00+23:59", "9998-12-31T23:59:59.999999-23:59", "2026-11-01T10:00:00.5Z"]:
        assert re.search(DATE_TIME_PATTERN, value), value


def test_every_letter_the_question_pattern_names_is_a_word_to_the_answers_service():
    # The service refuses a question that normalises to nothing ("no words"); the pattern must never let one by.
    letters = _class_members(WORD_CHARS)
    assert len(letters) > 39_000  # CJK, hangul and kana, mostly
    assert [ch for ch in letters if not normalize_for_retrieval(ch)] == []
    for question in ["退款", "a", "５", "？？?", "😀", " ", "\x00退款"]:
        assert bool(re.search(QUESTION_PATTERN, question)) == (question in {"退款", "a", "５"}), question
    assert all(unicodedata.category(ch)[0] in "LN" for ch in letters)


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker, tmp_path_factory):
    target = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    return yaml.safe_load(target.read_text())


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def test_every_pattern_in_the_schema_reads_alike_in_ecma_and_python(schema):
    patterns = set(_patterns(schema))
    assert len(patterns) >= 6
    for pattern in patterns:
        re.compile(pattern)
        # \s \w \d differ between the two dialects, \Z and (?…) are Python's alone.
        assert not re.search(r"\\[swdSWDZA]|\(\?", pattern), pattern


def test_nullable_fields_and_every_error_are_documented(schema):
    article = schema["components"]["schemas"]["Article"]["properties"]
    assert article["valid_from"]["nullable"] and article["valid_until"]["nullable"]
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code"}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "414", "429"} <= codes, f"{method} {path}"
            assert list(operation["responses"]["414"]["content"]) == ["text/html"]  # gunicorn's own page
            if "{" in path or path.endswith(("/articles/", "/scripts/")):
                assert "404" in codes, f"{method} {path}: an id or a page that does not exist"
            if method == "post":
                assert operation["requestBody"]["required"] and {"413", "415"} <= codes, f"{method} {path}"


def test_responses_link_to_the_operations_they_feed(schema):
    # Client generators and schemathesis's stateful phase follow these (a query id to its feedback…).
    answered = schema["paths"]["/api/v1/answers/"]["post"]["responses"]["200"]["links"]
    assert answered["feedback"]["parameters"] == {"query_id": "$response.body#/query_id"}
    operation_ids = {op["operationId"] for methods in schema["paths"].values() for op in methods.values()}
    for methods in schema["paths"].values():
        for operation in methods.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operation_ids


def test_nested_field_errors_are_flat_paths():
    nested = {
        "changed_features": {1: ["Must be a string."]},
        "messages": [{}, {"sent_at": ["Required."], "role": ["Bad."]}],
        "non_field_errors": ["Wrong."],
    }
    assert flat_errors(nested) == {
        "changed_features[1]": ["Must be a string."],
        "messages[1].sent_at": ["Required."],
        "messages[1].role": ["Bad."],
        "non_field_errors": ["Wrong."],
    }


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def reader(api_key_client):
    return api_key_client("articles:read")


@pytest.mark.django_db
def test_drf_s_own_errors_carry_a_code_like_every_other(api_client, reader):
    assert api_client.get("/api/v1/articles/").json()["code"] == "not_authenticated"
    api_client.credentials(HTTP_AUTHORIZATION="Api-Key kbp_nope_nope")
    assert api_client.get("/api/v1/articles/").json()["code"] == "authentication_failed"
    assert reader.delete("/api/v1/articles/").json()["code"] == "method_not_allowed"
    response = reader.get("/api/v1/articles/nope/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("feature=&stale=", {"feature", "stale"}),  # DRF reads a QueryDict as a form: empty meant absent
        ("stale=1&needs_verification=yes", {"stale", "needs_verification"}),
        ("channel=&category=", {"channel", "category"}),
        ("updated_since=2026-11-01", {"updated_since"}),
        ("page=0&page_size=501", {"page", "page_size"}),
        ("page=abc&page_size=0", {"page", "page_size"}),
        ("product=no%20slug", {"product"}),
    ],
)
def test_query_values_the_schema_forbids_are_a_400_naming_them(reader, query, fields):
    response = reader.get(f"/api/v1/articles/?{query}")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields


@pytest.mark.django_db
def test_page_errors_say_what_is_allowed_in_the_client_s_language(reader):
    response = reader.get("/api/v1/articles/?page=-1&page_size=1%2B1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["errors"] == {"page": ["A page number from 1."], "page_size": ["A page size from 1 to 500."]}


def test_the_page_parameters_the_schema_shows_are_the_ones_checked(schema):
    # One serializer is both (apps.core.api.pagination.PageSerializer): the documented limits are the enforced ones.
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/articles/"]["get"]["parameters"]}
    assert parameters["page"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
    checked = PageSerializer(data={"page": "1", "page_size": str(MAX_PAGE_SIZE + 1)})
    assert not checked.is_valid() and set(checked.errors) == {"page_size"}


@pytest.mark.django_db
def test_filters_take_what_the_schema_offers(reader):
    published_article(product=ProductFactory(slug="mall-app"), external_id="m-1")
    query = "stale=false&needs_verification=false&product=mall-app&updated_since=2000-01-01T00:00:00Z&page_size=500"
    assert [item["external_id"] for item in reader.get(f"/api/v1/articles/?{query}").json()["results"]] == ["m-1"]
    assert reader.get("/api/v1/scripts/?page=1&page_size=1&channel=wechat").status_code == 200


@pytest.mark.django_db
def test_a_page_past_the_last_one_is_a_json_404(reader):
    response = reader.get("/api/v1/articles/?page=2")
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        404,
        "application/json",
        "not_found",
    )
    assert reader.get("/api/v1/articles/?page=" + "9" * 40).status_code == 404


@pytest.mark.django_db
def test_an_article_without_validity_dates_shows_them_as_null(reader):
    published_article(external_id="a-1")
    body = reader.get("/api/v1/articles/a-1/").json()
    assert (body["valid_from"], body["valid_until"]) == (None, None)


@pytest.mark.django_db
def test_the_detail_s_channel_is_one_of_the_channels(reader):
    published_article(external_id="a-1")
    assert reader.get("/api/v1/articles/a-1/?channel=wechat").status_code == 200
    assert set(reader.get("/api/v1/articles/a-1/?channel=fax").json()["errors"]) == {"channel"}
    assert set(reader.get("/api/v1/articles/a-1/?channel=").json()["errors"]) == {"channel"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scopes", "url"),
    [
        ("articles:read", "/api/v1/articles/a%0Ab/"),
        ("articles:read", "/api/v1/articles/a%2Fb/"),
        ("articles:read", "/api/v1/scripts/-x/"),
        ("conversations:read", "/api/v1/conversations/wechat/a%00b/"),
        ("conversations:read", "/api/v1/conversations/We%20Chat/c-1/"),
        ("conversations:read", "/api/v1/conversations/wechat/%20c-1/"),
        ("conversations:read", "/api/v1/conversations/wechat/c%0A1/"),
    ],
)
def test_an_id_no_item_can_have_is_the_api_s_json_404(api_key_client, scopes, url):
    response = api_key_client(scopes).get(url)
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")


@pytest.mark.django_db
def test_a_malformed_query_id_is_the_api_s_json_404(api_key_client):
    bot = api_key_client("answers")
    for path in ("not-a-uuid", "a%0Ab", str(uuid.uuid4())):
        response = bot.post(f"/api/v1/answers/{path}/feedback/", {"helpful": True}, format="json")
        assert (response.status_code, response["Content-Type"]) == (404, "application/json"), path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "？？？"}, "question"),  # no letter or digit: the schema's pattern says so
        ({"question": "退款\x00"}, "question"),
        ({"question": "退款", "session_id": ""}, "session_id"),
        ({"question": "退款", "product_version": "5.3.0\n"}, "product_version"),
    ],
)
def test_answers_refuse_what_the_schema_forbids(api_key_client, body, field):
    response = api_key_client("answers").post("/api/v1/answers/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_a_release_s_dates_beyond_what_can_be_shown_are_refused(api_key_client):
    ProductFactory(slug="mall-app")
    client = api_key_client("releases:write")
    for released_at in ["9999-12-31T23:59:59-14:00", "1900-01-01T00:00:00+08:00", "2026-11-01T10:00:00"]:
        body = {"product": "mall-app", "version": "5.3.0", "released_at": released_at}
        response = client.post("/api/v1/releases/", body, format="json")
        assert response.status_code == 400 and "released_at" in response.json()["errors"], released_at
    assert not Release.objects.exists()


def _conversation(**fields) -> dict:
    message = {"id": "m1", "role": "customer", "sent_at": "2026-11-02T10:00:00+08:00", "text": "在吗"}
    return {"channel": "wechat", "external_id": "c-1", "messages": [message], **fields}


@pytest.fixture
def writer(api_key_client):
    client = api_key_client("conversations:write")
    return lambda body: client.post("/api/v1/conversations/", body, format="json")


@pytest.mark.django_db
def test_a_conversation_naming_an_unknown_product_is_a_404_and_stores_nothing(writer):
    response = writer(_conversation(product="no-such-app"))
    assert response.status_code == 404 and "product" in response.json()["errors"]
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_two_messages_with_one_id_are_a_409_alone_and_a_rejected_item_in_a_batch(writer):
    twice = _conversation()
    twice["messages"].append({**twice["messages"][0], "text": "还在吗"})
    response = writer(twice)
    assert (response.status_code, set(response.json()["errors"])) == (409, {"messages[1].id"})
    body = writer({"conversations": [twice, None, 7, _conversation(external_id="c-2")]}).json()
    assert (body["created"], body["rejected"]) == (1, 3)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert list(Conversation.objects.values_list("external_id", flat=True)) == ["c-2"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"channel": " wechat"}, "channel"),
        ({"external_id": "c-1 "}, "external_id"),
        ({"team": ""}, "team"),
        ({"messages": [{"id": "m1", "role": "bot", "sent_at": "2026-11-02T10:00:00+08:00"}]}, "messages[0].sender"),
        ({"messages": [{"id": "m1", "role": "customer", "sent_at": "2026-11-02T10:00:00"}]}, "messages[0].sent_at"),
        ({"messages": ["hello"]}, "messages[0]"),
    ],
)
def test_a_conversation_the_schema_forbids_is_a_400(writer, fields, error):
    response = writer(_conversation(**fields))
    assert response.status_code == 400 and error in response.json()["errors"]


@pytest.mark.django_db
def test_json_nested_too_deeply_is_a_400_not_a_server_error(api_key_client):
    response = api_key_client("answers").post(
        "/api/v1/answers/", b"[" * 100_000 + b"]" * 100_000, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


@pytest.mark.django_db
def test_a_conversation_body_is_required(api_key_client):
    response = api_key_client("conversations:write").post("/api/v1/conversations/")
    assert response.status_code == 400


# --- the whole schema ---------------------------------------------------------------------------------
# The OpenAPI description integrators generate clients from: complete, valid, warning-free.


@pytest.mark.django_db
def test_the_committed_schema_is_the_one_the_code_serves(tmp_path):
    """docs/openapi.yaml is the API contract bots generate clients from: any change to the API shows up in
    review as a diff of that file (regenerate it with `make schema`)."""
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--lang", "en", "--validate", "--fail-on-warn", "--file", str(target))
    committed = (Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml").read_text(encoding="utf-8")
    served = target.read_text(encoding="utf-8")
    if served != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True), served.splitlines(keepends=True), "docs/openapi.yaml", "code"
            )
        )
        pytest.fail(f"The API changed: run `make schema` and commit docs/openapi.yaml.\n{diff[:6000]}")


@pytest.mark.django_db
def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert "ApiKey" in schema["components"]["securitySchemes"]
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert len(operations) == sum(len(path) for path in schema["paths"].values())  # no collisions
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, f"{method} {path} documents its errors"
