// Triage suggestions on the staff intake form: as the clerk types the matter, the text is
// POSTed to the suggestion endpoint and the ranked categories (with confidence and the words
// that drove them), the department and the urgency appear beside the form. Alt+S, or Enter
// on a suggestion, takes it: the category picker is set and the choice is recorded.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var panel = document.getElementById("triage-panel");
  var form = document.getElementById("intake-form");
  if (!panel || !form) { return; }
  var box = document.getElementById("triage-suggestions");
  var notice = document.getElementById("triage-notice");
  var t = panel.dataset;
  var sequence = 0;
  var timer = null;
  var current = null;

  function field(name) { return form.querySelector("[name='" + name + "']"); }
  function value(name) { var f = field(name); return f ? f.value : ""; }
  function csrf() { return value("csrfmiddlewaretoken"); }

  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function percent(p) { return Math.round(p * 100) + "%"; }

  function showNotice(text) {
    notice.textContent = text || "";
    notice.classList.toggle("d-none", !text);
  }

  function accept(index) {
    if (!current || !current.categories[index]) { return; }
    var suggestion = current.categories[index];
    // The select itself (the category tree picker gives its id to the text box it adds).
    var select = form.querySelector("select[name='category']");
    if (select) {
      select.value = String(suggestion.id);
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    box.querySelectorAll(".triage-pick").forEach(function (b, i) {
      b.classList.toggle("active", i === index);
      b.setAttribute("aria-pressed", i === index ? "true" : "false");
    });
    var mark = box.querySelector("#triage-accepted");
    if (mark) { mark.textContent = t.tAccepted + "：" + suggestion.full_name; }
    post(t.acceptUrl, { intake_token: value("intake_token"), category: suggestion.id });
  }

  function setUrgency(level) {
    var select = form.querySelector("select[name='urgency']");
    if (select) { select.value = level; select.dispatchEvent(new Event("change", { bubbles: true })); }
  }

  function render(data) {
    current = data;
    box.textContent = "";
    showNotice(data.status === "off" || data.status === "untrained" ? data.notice : "");
    if (data.status === "empty") { box.appendChild(element("p", "text-muted small mb-0", data.notice)); }
    var list = element("div", "list-group mb-2");
    data.categories.forEach(function (c, i) {
      var button = element("button", "list-group-item list-group-item-action triage-pick");
      button.type = "button";
      button.dataset.category = c.id;
      button.setAttribute("aria-pressed", "false");
      var head = element("div", "d-flex gap-2");
      head.appendChild(element("span", "fw-semibold", (i + 1) + ". " + c.full_name));
      head.appendChild(element("span", "ms-auto badge text-bg-light triage-confidence", percent(c.confidence)));
      button.appendChild(head);
      if (c.words.length) { button.appendChild(element("div", "small text-muted triage-words", t.tWords + c.words.join("、"))); }
      button.addEventListener("click", function () { accept(i); });
      list.appendChild(button);
    });
    if (data.categories.length) {
      box.appendChild(list);
      box.appendChild(element("div", "small text-success mb-2", "")).id = "triage-accepted";
    }
    if (data.departments.length) {
      var names = data.departments.map(function (d) { return d.name + "（" + percent(d.confidence) + "）"; });
      box.appendChild(element("div", "small mb-2", t.tDepartment + names.join("、"))).id = "triage-department";
    }
    if (data.urgency && data.urgency.level !== "normal") {
      var urgency = element("div", "alert alert-danger small py-1 mb-0", t.tUrgency + data.urgency.reason + " ");
      urgency.id = "triage-urgency";
      var set = element("button", "btn btn-sm btn-outline-danger py-0", t.tSetUrgency);
      set.type = "button";
      set.addEventListener("click", function () { setUrgency(data.urgency.level); });
      urgency.appendChild(set);
      box.appendChild(urgency);
    }
  }

  function ask() {
    var text = value("text"), title = value("title");
    if ((text + title).trim().length < 2) { return; }
    var mine = ++sequence;
    post(t.suggestUrl, {
      title: title, text: text, location: value("location"), party_name: value("party_name"),
      channel: t.channel, intake_token: value("intake_token")
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (mine === sequence) { render(data); }
    }).catch(function () {
      if (mine === sequence) { showNotice(t.tFailed); }
    });
  }

  // Repeats: open and recent cases by the same phone / ID number / place, or a similar text;
  // one button adds this call to that case as a contact (the intake form posted to it), the
  // other marks it to be linked (关联) with the case this form registers.
  var repeatPanel = document.getElementById("repeat-panel");
  var repeatBox = document.getElementById("repeat-candidates");
  var repeatSequence = 0;
  var repeatTimer = null;

  function renderRepeats(data) {
    repeatBox.textContent = "";
    if (!data.candidates.length) {
      repeatBox.appendChild(element("p", "text-muted small mb-0", repeatPanel.dataset.tNone));
      return;
    }
    var list = element("ul", "list-unstyled mb-0");
    data.candidates.forEach(function (c) {
      var item = element("li", "border-bottom py-2 repeat-candidate");
      item.dataset.case = c.number;
      var head = element("div", "d-flex gap-2");
      var link = element("a", "case-number", c.number);
      link.href = c.url;
      link.target = "_blank";
      head.appendChild(link);
      head.appendChild(element("span", "small text-muted", c.state));
      head.appendChild(element("span", "ms-auto badge text-bg-warning repeat-score", Math.round(c.score * 100) + "%"));
      item.appendChild(head);
      item.appendChild(element("div", "small", c.title));
      item.appendChild(element("div", "small text-danger repeat-reasons", c.reasons.join("；")));
      if (c.add_url) {  // none for an archived case: read-only, a call cannot be added to it
        var add = element("button", "btn btn-sm btn-outline-success mt-1 repeat-add", repeatPanel.dataset.tAdd);
        add.type = "submit";
        add.setAttribute("form", "intake-form");
        add.setAttribute("formaction", c.add_url);
        add.setAttribute("formnovalidate", "");
        item.appendChild(add);
      }
      // Or: a new case of its own, linked to this one once registered (关联).
      var mark = element("button", "btn btn-sm btn-outline-secondary mt-1 ms-1 repeat-link", repeatPanel.dataset.tLink);
      mark.type = "button";
      mark.addEventListener("click", function () {
        post(repeatPanel.dataset.linkUrl, { intake_token: value("intake_token"), case_id: c.id }).then(function (response) {
          if (response.ok) { mark.textContent = repeatPanel.dataset.tLinked; mark.disabled = true; }
        });
      });
      item.appendChild(mark);
      list.appendChild(item);
    });
    repeatBox.appendChild(list);
  }

  function askRepeats() {
    if (!repeatPanel) { return; }
    var mine = ++repeatSequence;
    post(repeatPanel.dataset.repeatsUrl, {
      party_phone: value("party_phone"), party_id_number: value("party_id_number"),
      location: value("location"), title: value("title"), text: value("text")
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (mine === repeatSequence) { renderRepeats(data); }
    }).catch(function () { /* the panel keeps what it showed; intake goes on */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 350);
    clearTimeout(repeatTimer);
    repeatTimer = setTimeout(askRepeats, 500);
  }

  ["text", "title", "location", "party_phone", "party_id_number"].forEach(function (name) {
    var f = field(name);
    if (f) { f.addEventListener("input", later); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey && (e.key === "s" || e.key === "S")) { e.preventDefault(); accept(0); }
  });
  if ((value("text") + value("title")).trim()) { ask(); } // a refused form comes back filled in
})();
