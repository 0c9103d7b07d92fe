// Site-wide behaviour without inline script (the Content-Security-Policy allows scripts from this site only):
// a select marked data-autosubmit sends its form on change; a form marked data-confirm asks before it is sent.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) { field.form.submit(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
