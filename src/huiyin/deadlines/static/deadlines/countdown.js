// The case page's deadline panel (deadlines/_deadline_panel.html): running clocks count down.
(function () {
  /* Count the running clocks down every second with the server's formats; the server's
     clock, not the browser's, decides what "now" is. */
  var panel = document.getElementById("deadline-panel");
  var fmt = JSON.parse(document.getElementById("deadline-formats").textContent);
  var skew = Number(panel.dataset.now) - Date.now();
  var colours = {ok: "success", warned: "warning", overdue: "danger"};
  function human(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), d = Math.floor(s / 86400);
    s %= 86400; var h = Math.floor(s / 3600); s %= 3600; var m = Math.floor(s / 60); s %= 60;
    var key, a, b;
    if (d) { key = h ? "dh" : "d"; a = d; b = h; }
    else if (h) { key = m ? "hm" : "h"; a = h; b = m; }
    else if (m) { key = s ? "ms" : "m"; a = m; b = s; }
    else { key = "s"; a = s; b = 0; }
    return fmt[key].replace("%(a)d", a).replace("%(b)d", b);
  }
  function tick() {
    var now = Date.now() + skew;
    panel.querySelectorAll('.deadline-clock[data-state="running"]').forEach(function (el) {
      var left = Number(el.dataset.due) - now;
      el.querySelector(".deadline-left").textContent =
        (left >= 0 ? fmt.left : fmt.overdue).replace("%(time)s", human(left));
      var tone = el.dataset.tone;
      if (left < 0) { tone = "overdue"; }
      else if (tone === "ok" && el.dataset.warn && now >= Number(el.dataset.warn)) { tone = "warned"; }
      if (tone !== el.dataset.tone) {
        var from = colours[el.dataset.tone], to = colours[tone];
        el.classList.replace("tone-" + el.dataset.tone, "tone-" + tone);
        el.querySelectorAll("[data-toned]").forEach(function (node) {
          node.className = node.className.split(" ").map(function (c) {
            return c.replace("-" + from, "-" + to);
          }).join(" ");
        });
        el.dataset.tone = tone;
      }
    });
  }
  setInterval(tick, 1000);
})();
