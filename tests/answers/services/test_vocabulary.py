"""The vocabulary: editors' synonyms reach every process, and only a real change makes them rebuild."""

import pytest

from apps.answers.models import Synonym
from apps.answers.services.vocabulary import synonym_save
from apps.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_saving_a_synonym_as_it_already_is_changes_nothing(django_capture_on_commit_callbacks):
    synonym_save(canonical="纸尿裤", variants=["尿不湿"])
    with django_capture_on_commit_callbacks() as callbacks:
        synonym = synonym_save(canonical=" 纸尿裤 ", variants=["尿不湿 ", "纸尿裤", ""])
    assert synonym.variants == ["尿不湿"]
    assert callbacks == []  # no process rebuilds its vocabulary, nothing is re-embedded


def test_a_new_or_changed_synonym_tells_every_process_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        synonym_save(canonical="纸尿裤", variants=["尿不湿"])
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        synonym_save(canonical="纸尿裤", variants=["尿不湿", "尿片"])
    assert len(callbacks) == 1
    assert Synonym.objects.get(canonical="纸尿裤").variants == ["尿不湿", "尿片"]


def test_a_synonym_needs_a_canonical_term_and_a_variant():
    with pytest.raises(ValidationFailed):
        synonym_save(canonical="纸尿裤", variants=["纸尿裤"])
