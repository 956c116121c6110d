// Keyboard shortcuts of the callback desk (followup/queue.html). They act on the one card
// on the page (#callback-card): Alt+1..5 press that card's outcome buttons (also while
// typing in its fields); J / K open the next / previous callback of the queue, R reveals
// the complainant's number, F goes to the findings field (these four not while typing).
(function () {
  "use strict";
  var card = document.getElementById("callback-card");
  if (!card) { return; }

  function typing(element) {
    return element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }

  function press(selector) {
    var target = card.querySelector(selector);
    if (target && !target.disabled) { target.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.repeat) { return; }
    if (event.altKey) {
      var digit = /^(?:Digit|Numpad)([1-5])$/.exec(event.code);
      if (digit && press('button[data-key="' + digit[1] + '"]')) { event.preventDefault(); }
      return;
    }
    if (event.shiftKey || typing(document.activeElement)) { return; }
    var done = false;
    switch (event.code) {
      case "KeyJ": done = press('[data-shortcut="next"]'); break;
      case "KeyK": done = press('[data-shortcut="previous"]'); break;
      case "KeyR": done = press('[data-shortcut="reveal"]'); break;
      case "KeyF":
        var findings = card.querySelector('[data-shortcut="findings"]');
        if (findings) { findings.focus(); done = true; }
        break;
    }
    if (done) { event.preventDefault(); }
  });

  // A refused reveal shows its reason where the number would be (htmx leaves 4xx unswapped).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dial-number" && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // The reveal button goes once the number is shown.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dial-number" && event.detail.xhr.status === 200) {
      var button = card.querySelector('[data-shortcut="reveal"]');
      if (button) { button.remove(); }
    }
  });
  card.dataset.shortcuts = "ready";
})();
