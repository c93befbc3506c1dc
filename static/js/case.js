// Case page keyboard: `l` opens the "log contact" tab and focuses its first field; Enter in a field
// submits the form (the browser's own behaviour for inputs; selects are handled here).
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function showTab(name) {
    document.querySelectorAll("[data-tabs] [role=tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.dataset.tab === name ? "true" : "false");
    });
    document.querySelectorAll("[data-tabs] [data-tabpanel]").forEach(function (panel) {
      panel.hidden = panel.dataset.tabpanel !== name;
    });
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-tabs] [role=tab]");
    if (tab) showTab(tab.dataset.tab);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var form = event.target.closest && event.target.closest("#contact-log");
    if (form && event.key === "Enter" && event.target.tagName === "SELECT") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "l") {
      var first = document.querySelector("#contact-log select, #contact-log input:not([type=hidden])");
      if (first) {
        event.preventDefault();
        showTab("log");
        first.focus();
      }
    }
  });
})();
