/* Icons of the admin theme are ligatures of an icon font: their text ("inbox", "edit") would become part
   of a link's or button's accessible name. Hide them from assistive technology wherever the control has
   words of its own; an icon-only control keeps its icon text as its name. */
(function () {
  "use strict";
  function quiet(root) {
    root.querySelectorAll(".material-symbols-outlined:not([aria-hidden])").forEach(function (icon) {
      const control = icon.closest("a, button, label, summary, [role=button]") || icon.parentElement;
      const words = control ? control.textContent.replace(icon.textContent, "").trim() : "";
      if (words || (control && (control.getAttribute("aria-label") || control.getAttribute("title")))) {
        icon.setAttribute("aria-hidden", "true");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    quiet(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) { if (node.nodeType === 1) quiet(node); });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
