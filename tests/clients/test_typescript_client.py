"""The generated TypeScript client (openapi-fetch over build/clients/typescript/schema.d.ts, from ``make clients``)
against a live portal: clients/typescript/smoke.mjs run by node, and examples/bot.mjs run as a bot team would run
it, with a customer's lines piped in."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from apps.answers.models import AnswerQuery
from apps.conversations.models import Conversation
from tests.clients.conftest import ROOT, Portal, generated_client

TYPESCRIPT_CLIENT = generated_client("typescript")
PACKAGE = ROOT / "clients" / "typescript"  # package.json, the smoke script, and npm ci's node_modules

# What smoke.mjs prints for each step that held ("ok <step>: …"); it exits 1 at the first one that does not.
SMOKE_STEPS = ["answer", "clarify", "choose", "handoff", "batch", "updated_since", "429"]


def run_node(script: Path, portal: Portal, *, customer: str = "") -> subprocess.CompletedProcess[str]:
    """Runs a node script with the portal's address, keys and questions in its environment (``Portal.env``)."""
    node = shutil.which("node")
    if node is None or not (PACKAGE / "node_modules" / "openapi-fetch").is_dir():
        pytest.fail("node, or clients/typescript/node_modules, is missing: run `make clients` first", False)
    return subprocess.run(
        [node, str(script)],
        input=customer,
        env={**os.environ, **portal.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_smoke_script_does_what_a_bot_does(portal):
    assert (TYPESCRIPT_CLIENT / "schema.d.ts").is_file()
    run = run_node(PACKAGE / "smoke.mjs", portal)
    print(run.stdout)
    assert run.returncode == 0, f"smoke.mjs failed:\n{run.stdout}\n{run.stderr}"
    assert [line.split(":")[0] for line in run.stdout.splitlines() if line.startswith("ok ")] == [
        f"ok {step}" for step in SMOKE_STEPS
    ]
    assert run.stdout.rstrip().endswith("smoke: all steps passed")
    # What the portal stored, not only what the script says: feedback on the answer and on the chosen suggestion,
    # the choice, and the batch's good item (its bad one, nothing).
    assert list(AnswerQuery.objects.exclude(helpful=None).values_list("helpful", flat=True)) == [True, True]
    assert AnswerQuery.objects.exclude(chosen_article=None).count() == 1
    stored = Conversation.objects.filter(external_id__startswith="ts-smoke-").values_list("external_id", flat=True)
    assert len(stored) == 1 and not stored[0].endswith("-bad")


def test_the_smoke_script_fails_on_an_unexpected_decision(portal):
    # A question answered directly, where the script expects a hand-off: it must say so and exit 1.
    confused = replace(portal, questions={**portal.questions, "handoff": portal.questions["answer"]})
    run = run_node(PACKAGE / "smoke.mjs", confused)
    assert run.returncode == 1
    assert "FAIL handoff: decided answer, not handoff" in run.stderr


def test_the_example_bot_answers_clarifies_and_hands_off(portal, tmp_path):
    # Copied as a bot developer would copy it, next to its dependencies (openapi-fetch, from npm ci).
    bot = tmp_path / "bot.mjs"
    shutil.copyfile(ROOT / "examples" / "bot.mjs", bot)
    (tmp_path / "node_modules").symlink_to(PACKAGE / "node_modules", target_is_directory=True)
    # The customer: a clear question (then "helpful"), a vague one (then picks suggestion 1, "not helpful"),
    # and a human-only one.
    customer = "\n".join(
        [portal.questions["answer"], "y", portal.questions["clarify"], "1", "n", portal.questions["handoff"], ""]
    )
    run = run_node(bot, portal, customer=customer)
    print(run.stdout)
    assert run.returncode == 0, run.stderr
    assert "Bot: 审核通过后 1–3 个工作日原路退回。" in run.stdout
    assert "  1. " in run.stdout and "  2. " in run.stdout  # the "did you mean" list
    assert "Bot: let me get you a colleague (human_only_topic)." in run.stdout
    assert "cannot answer" not in run.stdout
    assert sorted(AnswerQuery.objects.exclude(helpful=None).values_list("helpful", flat=True)) == [False, True]
    assert AnswerQuery.objects.exclude(chosen_article=None).count() == 1
