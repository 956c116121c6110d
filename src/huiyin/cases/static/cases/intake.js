// Phone intake keyboard shortcuts (Ctrl+Enter submits, Alt+1…6 nature, Alt+U urgency) and focus on
// the first invalid field. A static file: the Content-Security-Policy allows no inline script.
(function () {
  document.addEventListener("keydown", function (e) {
    const form = document.getElementById("intake-form");
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); form.requestSubmit(); }
    if (e.altKey && /^[1-6]$/.test(e.key)) {
      e.preventDefault();
      const nature = document.getElementById("id_nature");
      nature.selectedIndex = Number(e.key) - 1;
    }
    if (e.altKey && (e.key === "u" || e.key === "U")) {
      e.preventDefault();
      const urgency = document.getElementById("id_urgency");
      urgency.selectedIndex = (urgency.selectedIndex + 1) % urgency.options.length;
    }
  });
  const firstError = document.querySelector(".invalid-feedback");
  if (firstError) {
    const input = firstError.parentElement.querySelector("input, select, textarea");
    if (input) { input.classList.add("is-invalid"); input.focus(); }
  }
})();
