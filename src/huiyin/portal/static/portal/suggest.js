/* Category suggestions on the submission page: as the person types the text, the categories
 * triage suggests appear under the category list, each with a button that selects it.
 * Progressive enhancement: without this script the box stays hidden and the list is enough.
 * The text is POSTed (never put in a URL) with the form's CSRF token. */
(function () {
  "use strict";
  var box = document.getElementById("category-suggest");
  var form = document.getElementById("submit-form");
  var select = document.getElementById("id_category");
  var text = document.getElementById("id_text");
  if (!box || !form || !select || !text || !window.fetch) return;
  var title = document.getElementById("id_title");
  var timer = null;
  var last = "";

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function take(category) {
    select.value = String(category.id);
    select.dispatchEvent(new Event("change", { bubbles: true }));
    clear(box);
    box.appendChild(document.createTextNode(box.dataset.taken + category.name));
  }

  function show(categories) {
    clear(box);
    if (!categories.length) {
      box.hidden = true;
      return;
    }
    box.appendChild(document.createTextNode(box.dataset.label + " "));
    categories.forEach(function (category) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-primary me-1 mb-1";
      button.dataset.category = String(category.id);
      button.textContent = box.dataset.take + " " + category.name;
      button.addEventListener("click", function () { take(category); });
      box.appendChild(button);
    });
    box.hidden = false;
  }

  function ask() {
    var typed = (title ? title.value : "") + "\n" + text.value;
    if (typed.trim().length < 6 || typed === last) return;
    last = typed;
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    body.append("title", title ? title.value : "");
    body.append("text", text.value);
    fetch(box.dataset.url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { categories: [] }; })
      .then(function (data) { show(data.categories || []); })
      .catch(function () { /* no suggestion: the list still works */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 700);
  }

  text.addEventListener("input", later);
  if (title) title.addEventListener("input", later);
})();
