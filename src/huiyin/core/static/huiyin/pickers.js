// Pickers built on plain <select>s (core/widgets.py), which work as they are without this script.
// A static file: the Content-Security-Policy allows no inline script.
//
// * select[data-follows="department"]: its options name their department (data-department);
//   only the department chosen in the same form's select[name=department] is offered (when
//   the form has no such select, the options are as the server made them).
// * select[data-tree-picker]: a searchable tree (a combobox). Typing filters on each entry's
//   own name or its pinyin (initials or spelled out, data-pinyin), the matches shown under
//   their parents;
//   Arrow keys move, Enter or a click picks, Escape closes and restores. The select stays in
//   the form, hidden, and carries the value.
(function () {
  "use strict";

  // --- handlers follow the department ---------------------------------------------------

  function follow(select) {
    var form = select.form;
    var leader = form && form.querySelector('select[name="' + CSS.escape(select.getAttribute("data-follows")) + '"]');
    if (!leader) return;
    var empty = Array.prototype.filter.call(select.options, function (o) { return o.value === ""; });
    var all = Array.prototype.filter.call(select.options, function (o) { return o.value !== ""; });
    function narrow() {
      var chosen = select.value;
      var offered = all.filter(function (o) { return o.getAttribute("data-department") === leader.value; });
      select.replaceChildren.apply(select, empty.concat(offered));
      var keep = offered.some(function (o) { return o.value === chosen; });
      select.value = keep ? chosen : "";
      select.disabled = !leader.value;
    }
    leader.addEventListener("change", narrow);
    narrow();
  }

  // --- the category tree -----------------------------------------------------------------

  var pickers = 0;

  function treePicker(select) {
    var n = ++pickers;
    var id = select.id || "tree-picker-" + n;
    var items = Array.prototype.filter.call(select.options, function (o) { return o.value !== ""; }).map(function (o) {
      var full = o.getAttribute("data-full") || o.textContent.trim();
      return {
        value: o.value,
        full: full,
        name: full.split("/").pop(),
        depth: Number(o.getAttribute("data-depth") || 0),
        key: (full.split("/").pop() + " " + (o.getAttribute("data-pinyin") || "")).toLowerCase(),
      };
    });
    var emptyOption = Array.prototype.find.call(select.options, function (o) { return o.value === ""; });

    var wrap = document.createElement("div");
    wrap.className = "tree-picker position-relative";
    wrap.setAttribute("data-picker", "");
    var input = document.createElement("input");
    input.type = "text";
    input.className = "form-control form-control-sm";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.placeholder = select.getAttribute("data-placeholder") || "";
    var list = document.createElement("ul");
    list.className = "dropdown-menu tree-picker-list";
    list.setAttribute("role", "listbox");
    list.id = id + "-tree";
    input.setAttribute("aria-controls", list.id);
    // The label (for=id), error messages and tests address the field by its id: the box takes it.
    select.id = id + "-select";
    input.id = id;
    if (select.classList.contains("is-invalid")) input.classList.add("is-invalid");
    select.classList.add("d-none");
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    select.after(wrap);
    wrap.append(input, list);

    var shown = []; // the items listed now, in order
    var active = -1;

    function textOf(value) {
      var item = items.find(function (i) { return i.value === value; });
      return item ? item.full : "";
    }

    function close() {
      list.classList.remove("show");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function render(query) {
      var q = query.trim().toLowerCase().replace(/\s+/g, "");
      var matches = {};
      items.forEach(function (item) {
        var hit = !q || item.key.split(" ").some(function (part) { return part.indexOf(q) !== -1; });
        if (hit) matches[item.full] = true;
      });
      // A match is shown under its parents, which stay pickable (shown muted).
      shown = items.filter(function (item) {
        if (matches[item.full]) return true;
        return Object.keys(matches).some(function (m) { return m.indexOf(item.full + "/") === 0; });
      });
      list.replaceChildren();
      if (!shown.length) {
        var none = document.createElement("li");
        none.className = "dropdown-item-text small text-muted";
        none.textContent = select.getAttribute("data-empty-text") || "—";
        list.append(none);
      }
      shown.forEach(function (item, index) {
        var li = document.createElement("li");
        li.id = list.id + "-" + index;
        li.className = "dropdown-item small" + (matches[item.full] ? "" : " text-muted");
        li.setAttribute("role", "option");
        li.setAttribute("data-depth", String(item.depth));
        li.setAttribute("data-value", item.value);
        li.setAttribute("aria-selected", item.value === select.value ? "true" : "false");
        li.title = item.full;
        li.textContent = item.name;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          pick(item);
        });
        list.append(li);
      });
      var firstMatch = shown.findIndex(function (item) { return matches[item.full]; });
      setActive(q ? firstMatch : shown.findIndex(function (item) { return item.value === select.value; }));
      list.classList.add("show");
      input.setAttribute("aria-expanded", "true");
    }

    function setActive(index) {
      var options = list.querySelectorAll('[role="option"]');
      options.forEach(function (li) { li.classList.remove("active"); });
      active = index;
      if (index < 0 || index >= options.length) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      options[index].classList.add("active");
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }

    function pick(item) {
      select.value = item ? item.value : "";
      input.value = item ? item.full : "";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      close();
    }

    input.value = textOf(select.value);
    select.addEventListener("change", function () { input.value = textOf(select.value); }); // set by another script
    input.addEventListener("input", function () { render(input.value); });
    input.addEventListener("focus", function () { input.select(); });
    input.addEventListener("click", function () { render(""); });
    input.addEventListener("keydown", function (event) {
      var open = list.classList.contains("show");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!open) {
          render("");
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        setActive(Math.max(0, Math.min(shown.length - 1, active + step)));
      } else if (event.key === "Enter" && open) {
        event.preventDefault(); // picking is not submitting
        if (active >= 0) pick(shown[active]);
        else if (!input.value.trim()) pick(null);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        input.value = textOf(select.value);
        close();
      }
    });
    input.addEventListener("blur", function () {
      if (!input.value.trim()) {
        if (select.value) pick(null); // cleared: no category
      } else {
        input.value = textOf(select.value); // typed but not picked: the value stays as it was
      }
      close();
    });
    if (emptyOption && !input.placeholder) input.placeholder = emptyOption.textContent.trim();
  }

  function init(root) {
    root.querySelectorAll("select[data-follows]").forEach(follow);
    root.querySelectorAll("select[data-tree-picker]").forEach(treePicker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
