// The review page: keyboard scoring, autosave of the draft (the server computes the live score), time
// spent while active, confirming or overturning machine findings, and submit (once).
(function () {
  "use strict";
  const state = JSON.parse(document.getElementById("review-state").textContent);
  const form = document.getElementById("scorecard-form");
  // The form is never posted: the draft saves itself and the buttons submit through fetch.
  form.addEventListener("submit", (event) => event.preventDefault());
  const criteria = Array.from(document.querySelectorAll(".criterion"));
  const scoreBox = document.getElementById("live-score");
  const fatalFlag = document.getElementById("fatal-flag");
  const saveState = document.getElementById("save-state");
  const errors = document.getElementById("errors");
  const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  let current = 0;
  let dirty = false;
  let timer = null;
  let activeSeconds = 0;
  let lastActivity = Date.now();

  // --- initial state ----------------------------------------------------------------------------
  for (const [id, outcome] of Object.entries(state.outcomes)) {
    const input = form.querySelector(`input[name="c${id}"][value="${outcome}"]`);
    if (input) input.checked = true;
  }
  for (const [id, note] of Object.entries(state.criterion_notes)) {
    const box = document.querySelector(`.criterion-note[data-criterion="${id}"]`);
    if (box) { box.value = note; if (note) showNote(box); }
  }
  for (const [id, note] of Object.entries(state.message_notes)) {
    const box = document.querySelector(`.message-note[data-message="${id}"]`);
    if (box) { box.value = note; box.hidden = false; }
  }
  for (const [id, verdict] of Object.entries(state.finding_verdicts)) markVerdict(id, verdict);
  document.getElementById("comment").value = state.comment || "";
  focusCriterion(firstUnscored());

  // Note boxes open on demand (a button, or key C), and stay open once they hold something.
  function showNote(box) {
    box.hidden = false;
    const toggle = document.querySelector(`.criterion-note-toggle[data-criterion="${box.dataset.criterion}"]`);
    if (toggle) toggle.hidden = true;
  }

  // The score is provisional until every criterion has an outcome.
  function updateProvisional() {
    const provisional = document.getElementById("provisional");
    if (provisional) provisional.hidden = criteria.every((c) => c.querySelector("input:checked"));
  }

  function firstUnscored() {
    const index = criteria.findIndex((c) => !c.querySelector("input:checked"));
    return index === -1 ? 0 : index;
  }

  function focusCriterion(index) {
    if (!criteria.length) return;
    current = Math.max(0, Math.min(criteria.length - 1, index));
    criteria.forEach((c, i) => c.classList.toggle("current", i === current));
    criteria[current].focus({ preventScroll: true });
    criteria[current].scrollIntoView({ block: "nearest" });
  }

  function collect() {
    const outcomes = {};
    for (const c of criteria) {
      const checked = c.querySelector("input:checked");
      if (checked) outcomes[c.dataset.criterion] = checked.value;
    }
    const notes = (selector, key) => {
      const result = {};
      document.querySelectorAll(selector).forEach((box) => { if (box.value.trim()) result[box.dataset[key]] = box.value; });
      return result;
    };
    return {
      outcomes,
      criterion_notes: notes(".criterion-note", "criterion"),
      message_notes: notes(".message-note", "message"),
      finding_verdicts: state.finding_verdicts,
      comment: document.getElementById("comment").value,
      active_seconds: activeSeconds,
    };
  }

  function showScore(body) {
    scoreBox.textContent = body.score;
    fatalFlag.hidden = !body.fatal;
    scoreBox.classList.toggle("zero", !!body.fatal);
  }

  function clearErrors() {
    errors.textContent = "";
    for (const box of document.querySelectorAll(".criterion.invalid")) {
      box.classList.remove("invalid");
      box.removeAttribute("aria-invalid");
    }
    document.querySelectorAll(".criterion-error").forEach((note) => note.remove());
    document.querySelectorAll("textarea[aria-invalid]").forEach((box) => box.removeAttribute("aria-invalid"));
  }

  // The problem, in words, right after ``anchor``.
  function sayUnder(anchor, problems) {
    const note = document.createElement("p");
    note.className = "criterion-error";
    note.textContent = [].concat(problems).join(" ");
    anchor.after(note);
  }

  // The text box a field's error is about: a note ("criterion_notes.<id>", "message_notes.<id>") or the comment.
  function boxOf(field) {
    const note = /^(criterion|message)_notes\.(\d+)$/.exec(field);
    if (note) return document.querySelector(`.${note[1]}-note[data-${note[1]}="${note[2]}"]`);
    return field === "comment" ? document.getElementById("comment") : null;
  }

  // Errors about a criterion ("outcomes.<id>") are shown on that criterion, errors about a note or the comment
  // under that box; the first is scrolled to and focused. What belongs to no field goes to the line under the
  // buttons, in words: never a raw field name.
  function showErrors(body) {
    clearErrors();
    const general = [body.detail || ""];
    let first = null;
    for (const [field, problems] of Object.entries(body.errors || {})) {
      const match = /^outcomes\.(\d+)$/.exec(field);
      const box = match && document.querySelector(`.criterion[data-criterion="${match[1]}"]`);
      const text = boxOf(field);
      if (box) {
        box.classList.add("invalid");
        box.setAttribute("aria-invalid", "true");
        sayUnder(box.querySelector(".criterion-title"), problems);
        first = first || box;
      } else if (text) {
        if (text.classList.contains("criterion-note")) showNote(text);
        text.hidden = false;
        text.setAttribute("aria-invalid", "true");
        sayUnder(text, problems);
        first = first || text;
      } else {
        general.push(...[].concat(problems));
      }
    }
    errors.textContent = general.filter(Boolean).join(" · ");
    if (first) {
      first.scrollIntoView({ block: "center" });
      first.focus();
    } else {
      errors.scrollIntoView({ block: "center" });
    }
  }

  async function post(url, payload, keepalive) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
      credentials: "same-origin",
      keepalive: !!keepalive,
    });
  }

  async function save(keepalive) {
    if (state.submitted) return;
    clearTimeout(timer);
    const payload = collect();
    const seconds = payload.active_seconds;
    dirty = false;
    saveState.textContent = "…";
    try {
      const response = await post(state.draft_url, payload, keepalive);
      const body = await response.json();
      if (!response.ok) { showErrors(body); dirty = true; saveState.textContent = "!"; return; }
      activeSeconds -= seconds;
      clearErrors();
      showScore(body);
      saveState.textContent = "✓";
      document.getElementById("review").dataset.saved = body.saved_at;
    } catch (error) {
      dirty = true;
      saveState.textContent = "!";
    }
  }

  function changed() {
    updateProvisional();
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, 400);
  }

  async function submit(next) {
    await save();
    const url = state.submit_url + (next ? "?next=1" : "");
    const response = await post(url, collect());
    const body = await response.json();
    if (!response.ok) { showErrors(body); return; }
    state.submitted = true;
    window.location.assign(body.next);
  }

  function markVerdict(findingId, verdict) {
    const item = document.querySelector(`.findings li[data-finding="${findingId}"]`);
    if (item) item.dataset.verdict = verdict;
    document.querySelectorAll(`mark[data-finding="${findingId}"]`).forEach((m) => { m.dataset.verdict = verdict; });
  }

  function setVerdict(findingId, verdict) {
    state.finding_verdicts[findingId] = verdict;
    markVerdict(findingId, verdict);
    // Overturning every finding of a rule clears the criteria it decided (复核: the machine was wrong).
    const rule = String(state.finding_rules[findingId]);
    const ofRule = Object.keys(state.finding_rules).filter((id) => String(state.finding_rules[id]) === rule);
    const allOverturned = ofRule.every((id) => state.finding_verdicts[id] === "overturned");
    for (const criterionId of state.rule_criteria[rule] || []) {
      const row = document.querySelector(`.criterion[data-criterion="${criterionId}"]`);
      const bonus = row && row.dataset.kind === "bonus";
      const value = allOverturned ? (bonus ? "fail" : "pass") : (bonus ? "pass" : "fail");
      const input = form.querySelector(`input[name="c${criterionId}"][value="${value}"]`);
      if (input) input.checked = true;
    }
    changed();
  }

  // --- events -------------------------------------------------------------------------------------
  form.addEventListener("change", changed);
  document.querySelectorAll(".criterion-note-toggle").forEach((toggle) => toggle.addEventListener("click", () => {
    const box = document.querySelector(`.criterion-note[data-criterion="${toggle.dataset.criterion}"]`);
    showNote(box);
    box.focus();
  }));
  updateProvisional();
  document.querySelectorAll("textarea").forEach((box) => box.addEventListener("input", changed));
  document.querySelectorAll(".verdict").forEach((button) =>
    button.addEventListener("click", () => setVerdict(button.closest("li").dataset.finding, button.dataset.verdict)));
  // A rule's findings are grouped: one click confirms or overturns them all.
  document.querySelectorAll(".verdict-all").forEach((button) => button.addEventListener("click", () => {
    const rule = button.closest(".finding-group").dataset.rule;
    for (const [findingId, ruleId] of Object.entries(state.finding_rules)) {
      if (String(ruleId) === rule) setVerdict(findingId, button.dataset.verdict);
    }
  }));
  document.querySelectorAll(".note-toggle").forEach((button) => button.addEventListener("click", () => {
    const box = document.querySelector(`.message-note[data-message="${button.dataset.message}"]`);
    box.hidden = false;
    box.focus();
  }));
  criteria.forEach((c, i) => c.addEventListener("click", () => focusCriterion(i)));
  const submitButton = document.getElementById("submit");
  const nextButton = document.getElementById("submit-next");
  if (submitButton) submitButton.addEventListener("click", () => submit(false));
  if (nextButton) nextButton.addEventListener("click", () => submit(true));

  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)
      && document.activeElement.type !== "radio";
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(!!nextButton);
      return;
    }
    if (typing || state.submitted || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    const choose = { p: "pass", f: "fail", n: "na" }[key];
    if (choose) {
      const input = criteria[current].querySelector(`input[value="${choose}"]`);
      if (input && !input.disabled) {
        input.checked = true;
        changed();
        focusCriterion(current + 1);
      }
      event.preventDefault();
    } else if (key === "j" || event.key === "ArrowDown") {
      focusCriterion(current + 1);
      event.preventDefault();
    } else if (key === "k" || event.key === "ArrowUp") {
      focusCriterion(current - 1);
      event.preventDefault();
    } else if (key === "c") {
      const box = criteria[current].querySelector(".criterion-note");
      showNote(box);
      box.focus();
      event.preventDefault();
    }
  });

  // --- time spent: counted only while the page is visible and someone is working on it -----------
  ["keydown", "mousemove", "mousedown", "scroll", "input"].forEach((name) =>
    document.addEventListener(name, () => { lastActivity = Date.now(); }, { passive: true }));
  setInterval(() => {
    if (document.visibilityState === "visible" && Date.now() - lastActivity < 60000 && !state.submitted) {
      activeSeconds += 5;
    }
  }, 5000);
  setInterval(() => { if (activeSeconds >= 30 || dirty) save(); }, 30000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && (dirty || activeSeconds)) save(true);
  });
  window.addEventListener("pagehide", () => { if (dirty || activeSeconds) save(true); });
})();
