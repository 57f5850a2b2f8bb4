"""A domain error reads the same at every door: on a form, as an admin message, as the API's JSON."""

from django import forms
from django.contrib.messages import ERROR, get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from apps.core.error_display import add_to_form, as_json, as_validation_error, message_admin
from apps.core.errors import Conflict, ValidationFailed


class NameForm(forms.Form):
    name = forms.CharField()


def bound_form() -> NameForm:
    form = NameForm({"name": "x"})
    assert form.is_valid()
    return form


def test_field_errors_go_on_their_fields_and_the_rest_above_the_form():
    form = bound_form()
    error = ValidationFailed("Not saved.", field_errors={"name": ["Too short.", "Taken."], "sections[0]": ["Empty."]})
    add_to_form(form, error)
    assert form.errors["name"] == ["Too short.", "Taken."]
    assert form.errors["__all__"] == ["sections[0]: Empty."]  # no such field: named, above the form


def test_an_error_without_field_errors_shows_its_message_above_the_form():
    form = bound_form()
    add_to_form(form, Conflict("Someone saved it first."))
    assert form.errors == {"__all__": ["Someone saved it first."]}


def test_paths_inside_a_file_stay_above_the_form_even_when_a_field_shares_their_name():
    form = bound_form()
    add_to_form(form, ValidationFailed("Bad file.", field_errors={"name": ["Too long."]}), on_fields=False)
    assert form.errors == {"__all__": ["name: Too long."]}


def test_a_clean_method_raises_the_field_errors_as_named_lines():
    error = as_validation_error(ValidationFailed("Bad.", field_errors={"$.pattern": ["Not RE2."]}))
    assert error.messages == ["$.pattern: Not RE2."]
    assert as_validation_error(Conflict("Taken.")).messages == ["Taken."]


def test_the_admin_message_is_the_error_message_about_the_row():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    message_admin(request, Conflict("Only a draft can be published."), about="售后质检 v2")
    [message] = list(get_messages(request))
    assert message.level == ERROR and message.message == "售后质检 v2: Only a draft can be published."


def test_the_json_body_has_detail_code_errors_and_extras():
    error = ValidationFailed("Not stored.", field_errors={"id": ["Required."]}, retry=False)
    body = {"detail": "Not stored.", "code": "invalid", "errors": {"id": ["Required."]}, "retry": False}
    assert as_json(error) == body
    assert as_json(Conflict("Taken.")) == {"detail": "Taken.", "code": "conflict"}
