// Worklist keyboard: j / k move the selected row, Enter opens it, / focuses the search box.
// Rows are looked up on every key press because htmx replaces the table when filters change.
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table[data-worklist] tbody tr[data-href]"));
  }

  function select(all, index) {
    all.forEach(function (row) {
      row.classList.remove("is-selected");
      row.removeAttribute("aria-selected");
    });
    var row = all[index];
    if (!row) return;
    row.classList.add("is-selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "/") {
      var search = document.getElementById("id_q");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (row) { return row.classList.contains("is-selected"); });
    if (event.key === "j") {
      select(all, Math.min(current + 1, all.length - 1));
    } else if (event.key === "k") {
      select(all, Math.max(current - 1, 0));
    } else if (event.key === "Enter" && current >= 0 && !/^(A|BUTTON)$/.test(event.target.tagName)) {
      window.location.assign(all[current].dataset.href);
    }
  });

  // A click anywhere on a row opens the case, except on its links and tick boxes.
  document.addEventListener("click", function (event) {
    if (event.target.closest("a, input, label, button")) return;
    var row = event.target.closest("table[data-worklist] tbody tr[data-href]");
    if (row) window.location.assign(row.dataset.href);
  });

  // "Tick every case on this page" follows the table htmx swapped in.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-select-all]")) return;
    var boxes = event.target.closest("table").querySelectorAll("tbody input[name=case_ids]");
    boxes.forEach(function (box) { box.checked = event.target.checked; });
  });
})();
