/* The calibration form's picker: search the conversations waiting in the review queue (or any sampled one)
   and add them to the session's list with one click. */
(function () {
  "use strict";
  const picker = document.querySelector(".calibration-picker");
  if (!picker) return;
  const query = document.getElementById("picker-query");
  const all = document.getElementById("picker-all");
  const results = document.getElementById("picker-results");
  const textarea = document.querySelector('textarea[name="conversations"]');
  const strings = {};
  document.getElementById("picker-strings").content.querySelectorAll("[data-key]").forEach(function (el) {
    strings[el.dataset.key] = el.textContent;
  });
  let timer = null;
  let sequence = 0;

  function chosen() {
    return new Set(textarea.value.split(/\s+/).filter(Boolean));
  }

  function add(id) {
    const ids = chosen();
    if (ids.has(id)) return;
    textarea.value = (textarea.value.trim() ? textarea.value.trim() + "\n" : "") + id;
  }

  function render(rows) {
    results.replaceChildren();
    if (!rows.length) {
      const empty = document.createElement("li");
      empty.className = "text-sm text-font-subtle-light";
      empty.textContent = strings.none;
      results.append(empty);
      return;
    }
    const ids = chosen();
    rows.forEach(function (row) {
      const item = document.createElement("li");
      item.className = "flex items-center gap-2 text-sm";
      const text = document.createElement("span");
      text.className = "grow min-w-0 truncate";
      text.textContent = [row.id, row.channel, row.agent, row.started].filter(Boolean).join(" · ");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "border border-base-200 rounded-default px-2 py-1 font-medium hover:bg-base-100 cursor-pointer";
      button.dataset.conversation = row.id;
      button.textContent = ids.has(row.id) ? strings.added : strings.add;
      button.setAttribute("aria-label", strings.add + " " + row.id);
      button.addEventListener("click", function () {
        add(row.id);
        button.textContent = strings.added;
      });
      item.append(text, button);
      results.append(item);
    });
  }

  async function search() {
    const mine = ++sequence;
    const params = new URLSearchParams({ q: query.value });
    if (all.checked) params.set("all", "1");
    const response = await fetch(picker.dataset.url + "?" + params, { credentials: "same-origin" });
    if (!response.ok || mine !== sequence) return;
    render((await response.json()).results);
  }

  query.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  all.addEventListener("change", search);
  search();
})();
