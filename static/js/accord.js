// Behaviour every staff page shares, kept out of the markup so the Content-Security-Policy needs no inline script:
// a select marked data-autosubmit (the language switcher) submits its form when it changes.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) field.form.submit();
  });
})();
