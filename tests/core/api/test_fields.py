"""A JSON value of the wrong type is a 400 naming the field, never coerced; the right type still works."""

import copy
import uuid

import pytest
from rest_framework import serializers

from apps.catalog.models import Release
from apps.conversations.models import Conversation, Message
from apps.conversations.payload import PayloadErrors, parse_conversation
from apps.core.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictFloatField,
    StrictIntegerField,
    StrictSlugField,
    StrictUUIDField,
)
from tests.factories import FeatureFactory, ProductFactory, published_article

pytestmark = pytest.mark.django_db


def body_with(field: serializers.Field, value: object) -> serializers.Serializer:
    """A request body ``{"value": value}`` validated by ``field`` (a copy: a field binds to one serializer)."""
    serializer = serializers.Serializer(data={"value": value})
    serializer.fields["value"] = copy.deepcopy(field)
    return serializer


def errors_of(field: serializers.Field, value: object) -> list[str]:
    """The messages the field gives for ``value`` (none: accepted)."""
    serializer = body_with(field, value)
    return [] if serializer.is_valid() else [str(m) for m in serializer.errors["value"]]


def value_of(field: serializers.Field, value: object) -> object:
    serializer = body_with(field, value)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["value"]


# --- the fields --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [42, 4.2, True, ["a"], {"a": 1}])
def test_a_char_field_takes_only_strings(value):
    assert errors_of(StrictCharField(), value) == ["Must be a string."]


def test_a_char_field_keeps_drf_s_own_checks():
    assert errors_of(StrictCharField(max_length=5), "abcdef") == ["Ensure this field has no more than 5 characters."]
    assert errors_of(StrictCharField(), "") == ["This field may not be blank."]
    assert value_of(StrictCharField(allow_blank=True), "") == ""
    assert errors_of(StrictCharField(), None) == ["This field may not be null."]
    assert value_of(StrictCharField(allow_null=True), None) is None


@pytest.mark.parametrize("value", ["3", 3.5, 3.0, True, False, None, [3]])
def test_an_integer_field_takes_only_json_integers(value):
    expected = ["This field may not be null."] if value is None else ["Must be an integer."]
    assert errors_of(StrictIntegerField(), value) == expected


def test_an_integer_field_keeps_its_bounds():
    field = StrictIntegerField(min_value=1, max_value=10)
    assert value_of(field, 3) == 3
    assert errors_of(field, 11) == ["Ensure this value is less than or equal to 10."]


@pytest.mark.parametrize("value", ["0.5", True, None, [0.5]])
def test_a_float_field_takes_only_json_numbers(value):
    expected = ["This field may not be null."] if value is None else ["Must be a number."]
    assert errors_of(StrictFloatField(), value) == expected


def test_a_float_field_takes_integers_and_floats():
    assert value_of(StrictFloatField(), 1) == 1.0
    assert value_of(StrictFloatField(max_value=1), 0.5) == 0.5
    assert errors_of(StrictFloatField(max_value=1), 1.5) == ["Ensure this value is less than or equal to 1."]


@pytest.mark.parametrize("value", ["yes", "true", "on", 1, 0, "null", ""])
def test_a_boolean_field_takes_only_true_and_false(value):
    assert errors_of(StrictBooleanField(allow_null=True), value) == ["Must be true or false."]


def test_a_boolean_field_takes_true_false_and_null_when_allowed():
    assert value_of(StrictBooleanField(), True) is True
    assert value_of(StrictBooleanField(), False) is False
    assert value_of(StrictBooleanField(allow_null=True), None) is None


def test_a_choice_field_wants_the_json_type_of_its_choices():
    strings = StrictChoiceField(choices=[("1", "one"), ("wechat", "WeChat")])
    assert errors_of(strings, 1) == ["Must be a string."]
    assert errors_of(strings, ["wechat"]) == ["Must be a string."]
    assert value_of(strings, "1") == "1"
    assert errors_of(strings, "sms") == ['"sms" is not a valid choice.']

    numbers = StrictChoiceField(choices=[1, 2])
    assert errors_of(numbers, "1") == ["Must be a number."]
    assert errors_of(numbers, True) == ["Must be a number."]
    assert value_of(numbers, 2) == 2

    assert value_of(StrictChoiceField(choices=["a"], allow_blank=True), "") == ""


def test_slug_date_time_and_uuid_fields_take_only_strings():
    assert errors_of(StrictSlugField(), 5) == ["Must be a string."]
    assert errors_of(StrictSlugField(), "no spaces") == [
        'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
    ]
    assert errors_of(StrictDateTimeField(), 1_790_000_000) == ["Must be a string."]
    assert value_of(StrictDateTimeField(), "2026-11-04T10:00:00+08:00").isoformat() == "2026-11-04T10:00:00+08:00"
    some = uuid.uuid4()
    assert errors_of(StrictUUIDField(), some.int) == ["Must be a string."]
    assert value_of(StrictUUIDField(), str(some)) == some


def test_a_list_of_strict_children_names_the_bad_item():
    serializer = serializers.Serializer(data={"tags": ["ok", 7]})
    serializer.fields["tags"] = serializers.ListField(child=StrictCharField())
    assert not serializer.is_valid()
    assert serializer.errors["tags"] == {1: ["Must be a string."]}


# --- POST /api/v1/releases/ --------------------------------------------------------------------


@pytest.fixture
def releases(api_key_client):
    product = ProductFactory(slug="mall-app")
    FeatureFactory(product=product, slug="refund")
    client = api_key_client("releases:write")
    return lambda **body: client.post("/api/v1/releases/", {"product": "mall-app", **body}, format="json")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", 5.3),  # a CI config in YAML turns 5.3 into a number; DRF used to record "5.3"
        ("product", 42),
        ("released_at", 1_790_000_000),
        ("changed_features", ["refund", 3]),
        ("notes", False),
    ],
)
def test_a_release_with_a_wrong_type_is_refused_and_nothing_is_recorded(releases, field, value):
    response = releases(**{"version": "5.3.0", field: value})

    assert response.status_code == 400
    body = response.json()
    # A list's bad item is named by its path: changed_features[1].
    [messages] = [messages for path, messages in body["errors"].items() if path.split("[")[0] == field]
    assert body["code"] == "invalid" and "Must be a string." in messages
    assert not Release.objects.exists()


def test_a_release_with_the_right_types_is_recorded(releases):
    response = releases(version="5.3.0", released_at="2026-11-04T10:00:00+08:00", changed_features=["refund"])
    assert response.status_code == 201
    assert response.json()["changed_features"] == ["refund"]


# --- POST /api/v1/conversations/ ---------------------------------------------------------------


def conversation(**fields) -> dict:
    message = {"id": "m1", "role": "customer", "sender": "u-88", "sent_at": "2026-11-02T10:00:00+08:00", "text": "在吗"}
    return {"channel": "wechat", "external_id": "c-1", "customer": "u-88", "messages": [message], **fields}


def with_message(**fields) -> dict:
    body = conversation()
    body["messages"][0].update(fields)
    return body


@pytest.fixture
def conversations(api_key_client):
    ProductFactory(slug="mall-app")
    client = api_key_client("conversations:write")
    return lambda body: client.post("/api/v1/conversations/", body, format="json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (conversation(external_id=1001), "external_id"),
        (conversation(customer=88), "customer"),
        (conversation(product=True), "product"),
        (conversation(csat="4"), "csat"),
        (conversation(csat=4.0), "csat"),
        (conversation(handoff="true"), "handoff"),
        (conversation(resolution=1), "resolution"),
        (conversation(tags=["退款", 1]), "tags[1]"),
        (with_message(id=1), "messages[0].id"),
        (with_message(sender=7), "messages[0].sender"),
        (with_message(sent_at=1_790_000_000), "messages[0].sent_at"),
        (with_message(text=123), "messages[0].text"),
    ],
)
def test_a_conversation_with_a_wrong_type_is_refused_and_nothing_is_stored(conversations, body, field):
    response = conversations(body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_in_a_batch_only_the_item_with_a_wrong_type_is_rejected(conversations):
    response = conversations({"conversations": [conversation(external_id="c-1"), conversation(external_id=2)]})

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert "external_id" in body["results"][1]["errors"]
    assert list(Conversation.objects.values_list("external_id", flat=True)) == ["c-1"]


def test_a_conversation_with_the_right_types_is_stored(conversations):
    response = conversations(conversation(csat=4, handoff=False, resolution="resolved", tags=["退款"]))
    assert response.status_code == 201
    assert Conversation.objects.get().csat == 4


def test_file_imports_share_the_strict_check():
    # import_conversations reads JSON Lines into the same parser as the API.
    with pytest.raises(PayloadErrors) as refused:
        parse_conversation(with_message(id=1))
    assert refused.value.errors == {"messages[0].id": ["Must be a string."]}


# --- query strings stay strings ----------------------------------------------------------------


def test_query_string_filters_are_still_parsed_from_strings(api_key_client):
    published_article(product=ProductFactory(slug="mall-app"), external_id="m-1")
    response = api_key_client("articles:read").get("/api/v1/articles/?stale=false&product=mall-app&page=1")
    assert response.status_code == 200
    assert [item["external_id"] for item in response.json()["results"]] == ["m-1"]
