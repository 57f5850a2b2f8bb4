"""Malformed and oversized input, typed and uploaded by a person in the browser: on the admin's article editor and
import, the QA rule and scorecard forms, and the /qa/ review, dispute, ruling and calibration forms. Each answers
with the error next to the field it is about (never a 500), and nothing is written: the database is checked after
each attempt. A person with the browser's developer tools can remove a ``maxlength`` or change a radio button's
value; the tests do that too, then click the page's own buttons."""

import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook
from playwright.sync_api import expect

from apps.accounts import roles
from apps.knowledge.formats import SPREADSHEET_COLUMNS
from apps.knowledge.models import Article, ArticleVersion
from apps.qa.models import Rule, Scorecard, ScorecardVersion
from apps.reviews.models import CalibrationSession, Dispute, Review
from apps.reviews.services import dispute_raise, review_open_task, review_submit
from tests.e2e.conftest import shot
from tests.factories import ProductFactory, UserFactory, draft_article, editor, lead_of, setup_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def zh(msgid: str, **params) -> str:
    """What the page says, in the browser's language (Simplified Chinese, as in the other browser tests)."""
    with translation.override("zh-hans"):
        text = gettext(msgid)
    return text % params if params else text


def failures_of(page) -> list[str]:
    """Every response of 500 or more the page receives (documents and fetches alike) and every script error on
    it: the list stays empty while the page copes with what it is sent."""
    failures: list[str] = []
    page.on(
        "response", lambda response: response.status >= 500 and failures.append(f"{response.status} {response.url}")
    )
    page.on("pageerror", lambda error: failures.append(f"script error: {error}"))
    return failures


def shot_at(page, locator, name: str) -> None:
    """A screenshot with ``locator`` scrolled to the middle: clear of the admin's sticky row of buttons."""
    locator.evaluate("element => element.scrollIntoView({block: 'center'})")
    shot(page, name)


def expect_next_to(field, error, *, within: float = 120) -> None:
    """The error is visible, just below its field and in the same column: where the person is looking."""
    expect(error).to_be_visible()
    box, said = field.bounding_box(), error.bounding_box()
    assert box and said, (box, said)
    gap = said["y"] - (box["y"] + box["height"])
    assert -2 <= gap <= within, f"the error is {gap:.0f} px below its field"
    assert said["x"] < box["x"] + box["width"] and box["x"] < said["x"] + said["width"], (box, said)


def file_field_and_error(form):
    """The upload field as drawn (the theme hides the input itself behind a button) and the error under it."""
    errors = "contains(concat(' ', normalize-space(@class), ' '), ' errors ')"  # the class, not a Tailwind variant
    wrapper = form.locator('input[name="file"]').locator(f"xpath=ancestor::div[{errors}][1]")
    return wrapper.locator("> div").first, wrapper.locator("> div.text-red-600")


def drop_maxlength(locator) -> None:
    """What a person with developer tools does before pasting more than the page lets them type."""
    locator.evaluate("element => element.removeAttribute('maxlength')")


# --- admin: the article editor ---------------------------------------------------------------------------


def test_the_article_editor_answers_hostile_input_with_field_errors_and_saves_nothing(page_as):
    version = draft_article(product=ProductFactory(slug="mall-app"), standard_question="退款多久到账？")
    page = page_as(editor())
    failures = failures_of(page)
    page.goto(f"{page.base}/admin/knowledge/article/{version.article_id}/edit/")
    question = page.locator('input[name="standard_question"]')
    answer = page.locator('textarea[name="answer"]')
    save = page.get_by_role("button", name=zh("Save as new version"))

    def error_of(name: str):
        return page.locator(f".field-{name} .errorlist")

    # 301 characters where the column holds 300: the browser stops typing at 300, so the attribute goes first.
    assert question.get_attribute("maxlength") == "300"
    drop_maxlength(question)
    question.fill("退" * 301)
    save.click()
    expect_next_to(page.locator('input[name="standard_question"]'), error_of("standard_question"))
    expect(error_of("standard_question")).to_contain_text("300")
    expect(error_of("standard_question")).to_contain_text("301")
    shot(page, "hostile-01-article-question-too-long")

    # A blank required field (spaces only count as blank), the question fixed meanwhile.
    page.locator('input[name="standard_question"]').fill("退款多久到账？")
    answer.fill("   ")
    save.click()
    expect_next_to(page.locator('textarea[name="answer"]'), error_of("answer"))
    expect(error_of("answer")).to_have_text(zh("This field is required."))
    expect(page.locator('input[name="standard_question"]')).to_have_value("退款多久到账？")  # kept as typed

    # Text pasted from another program with a NUL and other control characters in it.
    page.locator('input[name="standard_question"]').fill("退款\x00多久到账？")
    page.locator('textarea[name="answer"]').fill("审核通过后\x07原路退回")
    page.locator('textarea[name="similar_questions"]').fill("退款什么时候到\n钱\x1b怎么还没退")
    save.click()
    expect_next_to(page.locator('input[name="standard_question"]'), error_of("standard_question"))
    expect(error_of("standard_question")).to_have_text(zh("Null characters are not allowed."))
    # The other fields are checked once the form's own checks pass: fix the NUL, and the rest is said.
    page.locator('input[name="standard_question"]').fill("退款多久到账？")
    save.click()
    expect_next_to(page.locator('textarea[name="answer"]'), error_of("answer"))
    expect(error_of("answer")).to_contain_text("U+0007")
    expect(error_of("similar_questions")).to_contain_text("U+001B")
    shot(page, "hostile-02-article-control-characters")

    assert failures == []
    assert list(ArticleVersion.objects.filter(article=version.article).values_list("number", flat=True)) == [1]
    version.refresh_from_db()
    assert version.standard_question == "退款多久到账？" and "\x07" not in version.answer


# --- admin: the article import ----------------------------------------------------------------------------


def workbook(path: Path, header: list[str], rows: list[dict]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])
    book.save(path)
    return path


def test_the_article_import_names_the_bad_line_and_refuses_wrong_or_oversized_files(page_as, tmp_path, settings):
    ProductFactory(slug="mall-app")
    page = page_as(editor())
    failures = failures_of(page)
    page.goto(page.base + "/admin/knowledge/article/import/")
    form = page.locator("#content-main form")
    upload = form.locator('input[name="file"]')

    def send(path: Path) -> None:
        upload.set_input_files(str(path))
        form.get_by_role("button", name=zh("Import")).click()
        page.wait_for_load_state()

    # Wrong columns: said at the file field, naming line 1 and the missing columns.
    wrong = workbook(tmp_path / "wrong.xlsx", ["问题", "答案"], [{"问题": "退款多久到账？", "答案": "1–3 天"}])
    send(wrong)
    field, error = file_field_and_error(form)
    expect_next_to(field, error)
    missing, expected = "external_id, product, standard_question, answer", ", ".join(SPREADSHEET_COLUMNS)
    header = "Line 1: the header lacks column(s) %(missing)s. Expected columns: %(expected)s."
    expect(error).to_have_text(zh(header, missing=missing, expected=expected))
    shot(page, "hostile-03-import-wrong-columns")

    # A bad row (no standard question on line 3, a control character on line 4): each named by its line, and
    # nothing imported, not even the good row on line 2.
    good = {"external_id": "faq-1", "product": "mall-app", "standard_question": "退款多久到账？", "answer": "1–3 天"}
    rows = [good, {**good, "external_id": "faq-2", "standard_question": ""}, {**good, "external_id": "faq-3"}]
    rows[2]["answer"] = "审核通过后\x07原路退回"
    send(workbook(tmp_path / "bad-row.xlsx", SPREADSHEET_COLUMNS, rows[:2]))
    table = page.locator("table").filter(has_text="faq-2")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td").first).to_have_text("3")
    expect(table.locator("tbody tr")).to_contain_text("standard_question")
    csv = tmp_path / "bad-row.csv"
    csv.write_text(
        ",".join(SPREADSHEET_COLUMNS[:7])
        + "\n"
        + "\n".join(",".join(str(r.get(c, "")) for c in SPREADSHEET_COLUMNS[:7]) for r in rows)
        + "\n",
        encoding="utf-8",
    )
    send(csv)
    lines = page.locator("table").filter(has_text="faq-3").locator("tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).locator("td").first).to_have_text("3")
    expect(lines.nth(1).locator("td").first).to_have_text("4")
    expect(lines.nth(1)).to_contain_text("U+0007")
    shot(page, "hostile-04-import-bad-rows-by-line")
    assert not Article.objects.exists()

    # Over the size limit (lowered for the test): refused at the file field before anything is read.
    settings.KNOWLEDGE_IMPORT_MAX_BYTES = 2048
    big = tmp_path / "big.csv"
    big.write_text("external_id,product,standard_question,answer\n" + "faq-9,mall-app,退款多久到账？,1–3 天\n" * 100)
    send(big)
    field, error = file_field_and_error(form)
    expect_next_to(field, error)
    expect(error).to_have_text(zh("The file is larger than %(size)s: split it into several files.", size="2.0\xa0KB"))
    shot(page, "hostile-05-import-too-large")

    assert failures == []
    assert not Article.objects.exists()


# --- admin: QA rules and scorecards ------------------------------------------------------------------------


def test_a_lead_writing_a_rule_gets_json_and_re2_errors_at_the_condition(page_as):
    page = page_as(UserFactory(role=roles.QA_LEAD))
    failures = failures_of(page)
    page.goto(page.base + "/admin/qa/rule/add/")
    page.locator('input[name="code"]').fill("contact-outside")
    page.locator('input[name="name"]').fill("私下联系")
    condition = page.locator('[name="condition"]')
    save = page.locator('button[name="_save"]')

    def error():
        return page.locator(".field-condition .errorlist")

    condition.fill('{"type": "keywords", "terms": ["微信", "加我"], "role": "agent"')  # no closing brace
    save.click()
    expect_next_to(page.locator('[name="condition"]'), error())
    expect(error()).to_have_text(zh("Enter a valid JSON."))
    shot_at(page, error(), "hostile-06-rule-malformed-json")

    page.locator('[name="condition"]').fill('{"type": "regex", "pattern": "(微信)\\\\1", "role": "agent"}')
    save.click()
    expect_next_to(page.locator('[name="condition"]'), error())
    expect(error()).to_contain_text("$.pattern")
    expect(error()).to_contain_text("RE2")
    shot_at(page, error(), "hostile-07-rule-regex-re2-refuses")

    # A NUL written as JSON's escape, and a document nested deeper than any parser goes.
    page.locator('[name="condition"]').fill('{"type": "keywords", "terms": ["微\\u0000信"], "role": "agent"}')
    save.click()
    expect(error()).to_have_text(zh("The condition contains a NUL character (\\u0000): remove it."))
    page.locator('[name="condition"]').fill("[" * 50_000 + "]" * 50_000)
    save.click()
    expect(error()).to_have_text(zh("Enter a valid JSON."))

    assert failures == []
    assert not Rule.objects.exists()


def test_a_scorecard_import_of_a_bad_file_is_explained_and_imports_nothing(page_as, tmp_path):
    page = page_as(UserFactory(role=roles.QA_LEAD))
    failures = failures_of(page)
    page.goto(page.base + "/admin/qa/scorecard/import/")
    form = page.locator("#content-main form")

    def send(name: str, body: str) -> None:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        form.locator('input[name="file"]').set_input_files(str(path))
        # The theme's script shows the chosen file's name in its own box, not in the form's "name" (it did: the
        # scorecard was then imported as "card.json").
        expect(
            form.locator("label").filter(has=page.locator('input[name="file"]')).locator("input[type=text]")
        ).to_have_value(name)
        expect(form.locator('input[name="name"]')).to_have_value("")
        form.get_by_role("button", name=zh("Import")).click()
        page.wait_for_load_state()

    send("card.json", '{"format": "kbportal.scorecard/1", "name": "夜班质检",\n  "sections": [}')
    field, error = file_field_and_error(form)
    expect_next_to(field, error)
    expect(error).to_have_text(zh("The file is not valid JSON: line %(line)s, column %(column)s.", line=2, column=16))

    long_title = "礼" * 201
    send(
        "card.json",
        '{"format": "kbportal.scorecard/1", "name": "夜班质检", "teams": 5, "sections": [{"title": "服务规范", '
        f'"criteria": [{{"title": "{long_title}", "points": "很多", "rule": ["forbidden"]}}]}}]}}',
    )
    said = form.inner_text()
    for where in ("teams", "sections[0].criteria[0].title", "sections[0].criteria[0].points", "[0].rule"):
        assert where in said, (where, said)
    assert zh("At most %(n)s characters.", n=200) in said
    shot(page, "hostile-08-scorecard-import-errors-by-path")

    assert failures == []
    assert not Scorecard.objects.exists() and not ScorecardVersion.objects.exists()


# --- /qa/: the review page ---------------------------------------------------------------------------------


def test_a_reviewer_gets_errors_on_the_box_or_criterion_and_the_review_stays_a_draft(page_as):
    [task], _agent, reviewer, version = setup_tasks(1)
    manual, automatic = version.criteria.get(mode="manual"), version.criteria.get(mode="automatic")
    page = page_as(reviewer)
    failures = failures_of(page)
    page.goto(f"{page.base}/qa/tasks/{task.pk}/")
    expect(page.locator("#save-state")).to_have_text("")

    # An overall comment of 5,001 characters: the autosave refuses it and says so under the box.
    comment = page.locator("#comment")
    comment.fill("好" * 5001)
    said = page.locator("label.comment .criterion-error")
    expect_next_to(comment, said)
    expect(said).to_have_text(zh("At most %(n)s characters; this has %(length)s.", n="5,000", length="5,001"))
    expect(page.locator("#save-state")).to_have_text("!")
    shot_at(page, said, "hostile-09a-review-comment-too-long")

    # A criterion's note of 2,001 characters, said under that note.
    page.locator(f'.criterion-note-toggle[data-criterion="{manual.pk}"]').click()
    note = page.locator(f'.criterion-note[data-criterion="{manual.pk}"]')
    note.fill("注" * 2001)
    note_error = page.locator(f'.criterion[data-criterion="{manual.pk}"] .criterion-note + .criterion-error')
    expect_next_to(note, note_error)
    expect(note_error).to_have_text(zh("At most %(n)s characters; this has %(length)s.", n="2,000", length="2,001"))
    shot(page, "hostile-09b-review-note-too-long")

    # Scores changed with the developer tools: 100 and 很好 where the page offers pass / fail / N/A.
    comment.fill("解释清楚")
    note.fill("客户满意")
    expect(page.locator("#save-state")).to_have_text("✓")
    for criterion, value in ((manual, "100"), (automatic, "很好")):
        page.evaluate(
            """([id, value]) => {
                const input = document.querySelector(`input[name="c${id}"][value="pass"]`);
                input.value = value;
                input.checked = true;
            }""",
            [criterion.pk, value],
        )
    page.get_by_role("button", name=zh("Submit"), exact=True).click()
    for criterion in (manual, automatic):
        box = page.locator(f'.criterion[data-criterion="{criterion.pk}"]')
        expect(box).to_have_class(re.compile(r"\binvalid\b"))
        expect(box.locator(".criterion-error")).to_have_text(zh("One of: pass, fail, na."))
    expect(page.locator("#errors")).to_have_text(zh("The draft was not saved."))
    shot(page, "hostile-10-review-tampered-scores")

    assert failures == []
    review = Review.objects.get(task=task)
    assert review.status == Review.Status.DRAFT and set(review.outcomes.values()) <= {"pass", "fail", "na"}
    assert review.comment == "解释清楚" and review.criterion_notes == {str(manual.pk): "客户满意"}


# --- /qa/: disputes and rulings ------------------------------------------------------------------------------


def submitted_review():
    [task], agent_user, reviewer, version = setup_tasks(1)
    review = review_open_task(task, reviewer)
    return review_submit(review, reviewer, {"outcomes": {str(c.pk): "fail" for c in version.criteria.all()}}), (
        agent_user,
        version,
    )


def test_an_agents_blank_or_oversized_dispute_is_said_next_to_the_reason(page_as):
    review, (agent_user, version) = submitted_review()
    manual = version.criteria.get(mode="manual")
    page = page_as(agent_user)
    failures = failures_of(page)
    page.goto(f"{page.base}/qa/reviews/{review.pk}/")

    def reason():
        return page.locator(f'#outcomes tr[data-criterion="{manual.pk}"] input[name="reason"]')

    def dispute_button():
        return page.locator(f'#outcomes tr[data-criterion="{manual.pk}"] .dispute-form').get_by_role("button")

    # Blank: the browser itself refuses to send it.
    dispute_button().click()
    assert reason().evaluate("input => input.validity.valueMissing")
    assert page.url.endswith(f"/qa/reviews/{review.pk}/")

    # Spaces only: the server says so next to the field.
    reason().fill("   ")
    dispute_button().click()
    said = page.locator(f"#reason-error-{manual.pk}")
    expect_next_to(reason(), said)
    expect(said).to_have_text(zh("This field is required."))
    expect(reason()).to_have_attribute("aria-invalid", "true")

    # 2,001 characters, the page's maxlength removed first.
    drop_maxlength(reason())
    reason().fill("理" * 2001)
    dispute_button().click()
    said = page.locator(f"#reason-error-{manual.pk}")
    expect_next_to(reason(), said)
    expect(said).to_have_text(zh("At most %(n)s characters; this has %(length)s.", n="2,000", length="2,001"))
    expect(reason()).to_have_value("理" * 2001)  # what the agent typed is still there to shorten
    shot(page, "hostile-11-dispute-reason-too-long")

    assert failures == []
    assert not Dispute.objects.exists()


def test_a_leads_oversized_ruling_is_said_next_to_the_note_and_the_dispute_stays_open(page_as):
    review, (agent_user, version) = submitted_review()
    manual = version.criteria.get(mode="manual")
    dispute = dispute_raise(review, manual, agent_user, "客户问题已在通话中解决")
    page = page_as(lead_of())
    failures = failures_of(page)
    page.goto(f"{page.base}/qa/reviews/{review.pk}/")
    form = page.locator(f'#rulings form.rule-form[data-criterion="{manual.pk}"]')
    form.get_by_label(zh("overturn, to")).check()
    form.locator('select[name="outcome"]').select_option("na")
    drop_maxlength(form.locator('input[name="note"]'))
    form.locator('input[name="note"]').fill("裁" * 2001)
    form.get_by_role("button").click()
    form = page.locator(f'#rulings form.rule-form[data-criterion="{manual.pk}"]')
    said = page.locator(f"#note-error-{dispute.pk}")
    expect_next_to(form.locator('input[name="note"]'), said)
    expect(said).to_have_text(zh("At most %(n)s characters; this has %(length)s.", n="2,000", length="2,001"))
    # What the lead chose is kept with the note: shortening the note and ruling again must overturn, not uphold.
    expect(form.get_by_label(zh("overturn, to"))).to_be_checked()
    expect(form.locator('select[name="outcome"]')).to_have_value("na")
    shot(page, "hostile-12-ruling-note-too-long")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN and dispute.decision_note == ""
    assert Review.objects.get(pk=review.pk).outcomes[str(manual.pk)] == "fail"

    form.locator('input[name="note"]').fill("录音证实已解决")
    form.get_by_role("button").click()
    expect(page.locator("#rulings")).to_have_count(0)
    assert failures == []
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OVERTURNED and dispute.decision_note == "录音证实已解决"
    assert Review.objects.get(pk=review.pk).outcomes[str(manual.pk)] == "na"


# --- /qa/: calibration ------------------------------------------------------------------------------------------


def test_a_leads_malformed_calibration_session_is_said_next_to_each_field(page_as):
    tasks, _agent, reviewer, _version = setup_tasks(1)
    page = page_as(lead_of())
    failures = failures_of(page)
    page.goto(page.base + "/qa/calibrations/")

    def form():
        return page.locator("#new-session")

    def create() -> None:
        form().get_by_label(reviewer.username).check()
        form().get_by_role("button", name=zh("Create")).click()
        page.wait_for_load_state()

    # A name of 201 characters, the maxlength removed first.
    drop_maxlength(form().locator('input[name="name"]'))
    form().locator('input[name="name"]').fill("校" * 201)
    form().locator('textarea[name="conversations"]').fill(tasks[0].conversation.external_id)
    create()
    said = page.locator("#name-error")
    expect_next_to(form().locator('input[name="name"]'), said)
    expect(said).to_have_text(zh("At most %(n)s characters; this has %(length)s.", n="200", length="201"))

    # The name fixed, a conversation id that does not exist (with a NUL in it) added to the list.
    form().locator('input[name="name"]').fill("十二月校准")
    form().locator('textarea[name="conversations"]').fill(f"{tasks[0].conversation.external_id}\nno-such\x00one")
    create()
    said = page.locator("#conversations-error")
    expect_next_to(form().locator('textarea[name="conversations"]'), said)
    expect(said).to_contain_text("no-such")
    expect(form().locator('input[name="name"]')).to_have_value("十二月校准")
    shot(page, "hostile-13-calibration-errors-in-place")

    # The scorecard version changed to a value that is not an id: refused, said at the top of the page.
    form().locator('textarea[name="conversations"]').fill(tasks[0].conversation.external_id)
    form().locator('select[name="version"]').evaluate("select => { select.options[0].value = 'abc'; }")
    create()
    expect(page.locator(".messages, .messagelist").first).to_contain_text(zh("Choose a scorecard version."))

    assert failures == []
    assert not CalibrationSession.objects.exists()
