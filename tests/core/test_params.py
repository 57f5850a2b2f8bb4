"""Odd numbers in query strings (superscripts, exponents, other scripts' digits, ids beyond any integer)
are ignored or refused, never a 500."""

import pytest

from apps.accounts import roles
from apps.core.params import plain_int
from tests.factories import UserFactory, lead_of, published_article, setup_tasks

pytestmark = pytest.mark.django_db

ODD = ["²", "1e9", "٣", "-1", "99999999999999999999", "1.5", " ", "abc"]


@pytest.mark.parametrize("value", ODD)
def test_pages_ignore_odd_numbers(client, value):
    setup_tasks(1)
    lead = lead_of()
    lead.groups.add(*UserFactory(role=roles.ADMINISTRATOR).groups.all())
    article = published_article().article
    client.force_login(lead)
    for url in [
        f"/qa/reports/?days={value}",
        f"/qa/?team={value}&scorecard={value}&page={value}",
        f"/qa/submitted/?page={value}",
        f"/insights/?channel={value}&team={value}&product={value}&agent={value}",
        f"/admin/conversations/conversation/?agent={value}",
        f"/admin/knowledge/article/{article.pk}/diff/?a={value}&b={value}",
    ]:
        assert client.get(url).status_code in (200, 400, 404), url


def test_plain_int_reads_only_plain_decimal_numbers():
    assert plain_int("42") == 42
    assert plain_int("400", minimum=7, maximum=366) == 366
    assert [plain_int(v) for v in ODD] == [None] * len(ODD)
