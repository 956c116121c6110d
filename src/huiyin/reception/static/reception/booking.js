// The portal's booking page: choosing a day shows its periods (the form's "查看" button does the
// same without script). No inline handlers: see the Content-Security-Policy.
(function () {
  "use strict";
  var select = document.querySelector("select[data-autosubmit]");
  if (!select) { return; }
  select.addEventListener("change", function () { select.form.submit(); });
}());
