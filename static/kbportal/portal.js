/* Small accessibility repairs on top of the admin theme and Django's admin widgets, for every page. */
(function () {
  "use strict";

  /* Icons are ligatures of an icon font: their text ("inbox", "edit") would become part of a link's or
     button's accessible name. Hide them wherever the control has words of its own; an icon-only control
     keeps its icon text as its name. */
  function quietIcons(root) {
    root.querySelectorAll(".material-symbols-outlined:not([aria-hidden])").forEach(function (icon) {
      const control = icon.closest("a, button, label, summary, [role=button]") || icon.parentElement;
      const words = control ? control.textContent.replace(icon.textContent, "").trim() : "";
      if (words || (control && (control.getAttribute("aria-label") || control.getAttribute("title")))) {
        icon.setAttribute("aria-hidden", "true");
      }
    });
  }

  /* Django's two-box picker puts aria-label on plain spans (help icons), where ARIA does not allow it:
     keep the text as a tooltip. */
  function spanLabels(root) {
    root.querySelectorAll("span[aria-label]:not([role])").forEach(function (span) {
      if (!span.title) span.title = span.getAttribute("aria-label");
      span.removeAttribute("aria-label");
    });
  }

  /* Select2 (the admin's autocomplete) draws its own combobox: name it by the field's label. */
  function nameComboboxes(root) {
    root.querySelectorAll("select.admin-autocomplete, select.select2-hidden-accessible").forEach(function (select) {
      const label = select.id && document.querySelector('label[for="' + select.id + '"]');
      const box = select.parentElement && select.parentElement.querySelector(".select2-selection");
      if (!label || !box || box.hasAttribute("aria-labelledby") && box.dataset.kbNamed) return;
      if (!label.id) label.id = select.id + "-label";
      const rendered = box.querySelector(".select2-selection__rendered");
      box.setAttribute("aria-labelledby", label.id + (rendered && rendered.id ? " " + rendered.id : ""));
      // The box's read-only text (the chosen value) is marked as a nameless textbox of its own: it is only
      // the combobox's value, read as part of its name above.
      if (rendered && rendered.getAttribute("role") === "textbox") {
        rendered.removeAttribute("role");
        rendered.removeAttribute("aria-readonly");
      }
      box.dataset.kbNamed = "1";
    });
  }

  /* A tabular inline names its columns once, in the header: give each cell's control that name. */
  function nameInlineCells(root) {
    root.querySelectorAll(".tabular").forEach(function (inline) {
      inline.querySelectorAll("th[class*='column-']").forEach(function (th) {
        const field = Array.from(th.classList).find(function (c) { return c.indexOf("column-") === 0; });
        const name = th.textContent.replace(/\*/g, "").trim();
        if (!field || !name) return;
        inline.querySelectorAll("td.field-" + field.slice(7)).forEach(function (cell) {
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (control) {
            const labelled = control.id && document.querySelector('label[for="' + control.id + '"]');
            if (!labelled && !control.getAttribute("aria-label")) control.setAttribute("aria-label", name);
          });
        });
      });
    });
  }

  function repair(root) {
    quietIcons(root);
    spanLabels(root);
    nameComboboxes(document);
    nameInlineCells(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const content = document.getElementById("content");
    if (content && !document.querySelector("main, [role=main]")) content.setAttribute("role", "main");
    repair(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) { if (node.nodeType === 1) repair(node); });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
