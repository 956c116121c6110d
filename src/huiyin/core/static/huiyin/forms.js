// Refused forms: each message next to its field, for every form on a page and every htmx request
// (see core/refusals.py). A static file: the Content-Security-Policy allows no inline script.
//
// * A page answering a refused form carries <script type="application/json" id="form-refusal">
//   {action, errors: {field: [messages]}, values: {field: [values]}}: the form that posted to
//   `action` (and whose hidden fields match) gets back what was typed and the messages.
// * htmx: a 4xx answer that is a fragment (not a whole page) is swapped into its target like any
//   other; a <script type="application/json" data-refusal> in it puts its messages on the form
//   the request came from. Any other failure (a whole error page, a 5xx, no network) shows a
//   short message next to the element that sent the request, instead of nothing.
(function () {
  "use strict";
  var NOT_MATCHED = ["csrfmiddlewaretoken", "version", "intake_token", "signature_drawn"];
  var WHOLE_FORM = "__all__";
  var counter = 0;

  // Attributes, not form.action / form.method: a field named "method" or "action" shadows those.
  function pathOf(form) {
    return new URL(form.getAttribute("action") || "", window.location.href).pathname;
  }

  function hiddenFieldsMatch(form, values) {
    var hidden = form.querySelectorAll("input[type=hidden][name]");
    for (var i = 0; i < hidden.length; i++) {
      var input = hidden[i];
      if (NOT_MATCHED.indexOf(input.name) !== -1) continue;
      var posted = values[input.name];
      if (!posted || posted.indexOf(input.value) === -1) return false;
    }
    return true;
  }

  function formFor(refusal) {
    var candidates = Array.prototype.filter.call(document.forms, function (form) {
      return (form.getAttribute("method") || "").toLowerCase() === "post" && pathOf(form) === refusal.action;
    });
    var exact = candidates.filter(function (form) { return hiddenFieldsMatch(form, refusal.values || {}); });
    return exact[0] || (candidates.length === 1 ? candidates[0] : null);
  }

  function controlsNamed(form, name) {
    var found = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    if (!found.length) found = form.querySelectorAll('[name^="' + CSS.escape(name) + '_"]');
    if (!found.length) found = form.querySelectorAll('[data-error-for~="' + CSS.escape(name) + '"]');
    return Array.prototype.filter.call(found, function (el) { return el.type !== "hidden"; });
  }

  function restore(form, values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in values)) {
        if ((el.type === "checkbox" || el.type === "radio") && el.name && Object.keys(values).length) {
          el.checked = false; // not posted: it was not ticked
        }
        return;
      }
      var posted = values[el.name];
      if (["hidden", "file", "password", "submit", "button", "reset"].indexOf(el.type) !== -1) return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = posted.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (option) {
          option.selected = posted.indexOf(option.value) !== -1;
        });
        el.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        el.value = posted[0];
      }
    });
  }

  function clear(form) {
    form.querySelectorAll(".refusal-feedback").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".is-invalid[data-refused]").forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
      el.removeAttribute("data-refused");
    });
    var after = form.nextElementSibling;
    while (after && after.classList.contains("refusal-feedback")) {
      var next = after.nextElementSibling;
      after.remove();
      after = next;
    }
  }

  function feedback(field, messages) {
    var box = document.createElement("div");
    box.className = "invalid-feedback d-block refusal-feedback";
    box.id = "refusal-" + ++counter;
    box.setAttribute("data-field", field);
    box.textContent = messages.join(" ");
    return box;
  }

  // Where a message goes: under the field, or under its row when the field sits in a row of
  // controls, or under a widget that wraps it (a tick box, a signature pad, a picker).
  function anchorOf(form, control) {
    var wrap = control.closest(".form-check, .input-group, [data-signature], [data-picker]");
    if (wrap && form.contains(wrap)) return wrap;
    var row = control.closest(".d-flex");
    if (row && (row === form || form.contains(row))) return row;
    return control;
  }

  // fieldsOnly (an htmx answer): the answer swapped in shows the message already; only the
  // field messages go on the form.
  function apply(form, refusal, fieldsOnly) {
    clear(form);
    if (refusal.values && Object.keys(refusal.values).length) restore(form, refusal.values);
    var first = null;
    var top = [];
    Object.keys(refusal.errors || {}).forEach(function (field) {
      var messages = refusal.errors[field];
      if (form.querySelector('.invalid-feedback[data-field="' + CSS.escape(field) + '"]:not(.refusal-feedback)')) {
        return; // the page shows it next to the field already (a Django form)
      }
      var controls = field === WHOLE_FORM ? [] : controlsNamed(form, field);
      if (!controls.length) {
        if (!fieldsOnly) top = top.concat(messages);
        return;
      }
      var box = feedback(field, messages);
      anchorOf(form, controls[0]).after(box);
      controls.forEach(function (control) {
        control.classList.add("is-invalid");
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("data-refused", "");
        control.setAttribute("aria-describedby", box.id);
      });
      first = first || controls[0];
    });
    if (top.length) {
      var alert = feedback(WHOLE_FORM, top);
      alert.className = "alert alert-danger py-1 small refusal-feedback";
      alert.setAttribute("role", "alert");
      form.prepend(alert);
    }
    for (var open = form.closest("details"); open; open = open.parentElement.closest("details")) {
      open.open = true;
    }
    var shown = first || (top.length ? form : null);
    if (shown) shown.scrollIntoView({ block: "center" });
    if (first && first.focus) first.focus({ preventScroll: true });
  }

  function parse(script) {
    try {
      return JSON.parse(script.textContent);
    } catch (err) {
      return null;
    }
  }

  function onLoad() {
    var script = document.getElementById("form-refusal");
    var refusal = script && parse(script);
    var form = refusal && formFor(refusal);
    if (form) apply(form, refusal);
  }

  // --- htmx -------------------------------------------------------------------------------

  function requestForm(elt) {
    var include = elt && elt.getAttribute && elt.getAttribute("hx-include");
    var included = include && document.querySelector(include);
    if (included && included.tagName === "FORM") return included;
    return (elt && (elt.form || elt.closest("form"))) || null;
  }

  function failed(elt, status) {
    if (!elt || !elt.parentElement) return;
    var text = document.body.getAttribute("data-msg-request-failed") || "";
    var next = elt.nextElementSibling;
    if (next && next.classList.contains("htmx-failure")) next.remove();
    var box = document.createElement("div");
    box.className = "alert alert-danger py-1 small mt-1 htmx-failure";
    box.setAttribute("role", "alert");
    box.textContent = status ? text + " (" + status + ")" : text;
    elt.after(box);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    var body = xhr.responseText || "";
    if (xhr.status < 500 && body.trim() && !/<html[\s>]/i.test(body)) {
      event.detail.shouldSwap = true; // a refusal written for this spot: show it
      event.detail.isError = false;
      return;
    }
    event.detail.shouldSwap = false;
    failed(event.detail.requestConfig && event.detail.requestConfig.elt, xhr.status);
  });

  document.addEventListener("htmx:sendError", function (event) {
    failed(event.detail.requestConfig && event.detail.requestConfig.elt, 0);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var script = target && target.querySelector && target.querySelector("script[data-refusal]");
    var refusal = script && parse(script);
    if (!refusal) return;
    var form = requestForm(event.detail.requestConfig && event.detail.requestConfig.elt);
    if (form) apply(form, refusal, true);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }
})();
