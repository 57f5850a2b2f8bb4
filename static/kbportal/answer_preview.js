/* The article editor's live preview: the answer for the chosen channel (its own, or the default one when it
   has none), rendered on the server by the same sanitizer bots and agents get, refreshed as the editor types. */
(function () {
  "use strict";
  const pane = document.querySelector(".kb-preview-pane");
  const form = document.getElementById("kb-version-form");
  if (!pane || !form) return;
  const url = pane.dataset.previewUrl;
  const select = document.getElementById("kb-preview-channel");
  const output = document.getElementById("kb-preview-output");
  const source = pane.querySelector(".kb-preview-source");
  const error = pane.querySelector(".kb-preview-error");
  const strings = {};
  document.getElementById("kb-preview-strings").content.querySelectorAll("[data-key]").forEach((el) => {
    strings[el.dataset.key] = el.textContent;
  });
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const field = (name) => form.querySelector(`[name="${name}"]`);
  let timer = null;
  let sequence = 0;

  function current() {
    const channel = select.value;
    const own = channel ? (field(channel)?.value || "").trim() : "";
    if (channel && own) return { text: own, note: strings.own };
    return { text: field("answer")?.value || "", note: channel ? strings.default : strings["default-only"] };
  }

  async function refresh() {
    const { text, note } = current();
    source.textContent = note;
    if (!text.trim()) {
      output.textContent = strings.empty;
      output.classList.add("kb-preview-empty");
      return;
    }
    const mine = ++sequence;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": csrf },
        body: new URLSearchParams({ text }),
        credentials: "same-origin",
      });
      const data = await response.json();
      if (mine !== sequence) return; // a newer keystroke already asked
      if (!response.ok) throw new Error((data.text || [strings.failed])[0]);
      output.classList.remove("kb-preview-empty");
      output.innerHTML = data.html; // sanitized on the server (apps.core.markdown.render_markdown)
      error.hidden = true;
    } catch (exc) {
      if (mine !== sequence) return;
      error.textContent = exc instanceof SyntaxError ? strings.failed : exc.message || strings.failed;
      error.hidden = false;
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("input", (event) => {
    const name = event.target.name || "";
    if (name === "answer" || name.startsWith("answer_")) {
      // Typing in a channel's own answer shows that channel.
      if (name.startsWith("answer_") && select.value !== name) select.value = name;
      soon();
    }
  });
  select.addEventListener("change", refresh);
  refresh();
})();
