"""Every page carries a Content-Security-Policy: our own scripts and styles, and the one inline <style> of
the theme nonced; no inline script runs without the page's nonce."""

import re

import pytest

from apps.accounts import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_pages_send_a_policy_whose_nonce_is_on_their_inline_style_and_scripts(client):
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    response = client.get("/qa/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-inline'" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
    page = response.content.decode()
    assert f'<style id="unfold-theme-colors" nonce="{nonce}">' in page
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert all(f'nonce="{nonce}"' in attrs or "application/json" in attrs for attrs in inline_scripts), inline_scripts
    assert not re.search(r"\son(click|submit|change|load)=", page)  # no inline event handlers either
