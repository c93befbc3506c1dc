// Plan builder keyboard: `p` opens the "plan builder" tab and focuses its first field; Ctrl+Enter (or ⌘+Enter)
// in the offer form saves the offer.
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("#offer-form");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "p") {
      var tab = document.getElementById("tab-plans");
      if (!tab) return;
      event.preventDefault();
      tab.click();
      var first = document.querySelector("#offer-form select, #offer-form input:not([type=hidden])");
      if (first) first.focus();
    }
  });
})();
