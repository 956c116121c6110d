// Signature drawn on screen (被调查人当场签名): pointer strokes on a canvas, sent as a
// PNG data URL in the form's hidden "signature_drawn" field when something was drawn.
(function () {
  function setup(box) {
    var canvas = box.querySelector("canvas");
    var field = box.querySelector('input[name="signature_drawn"]');
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false;
    ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
    }
    canvas.addEventListener("pointerdown", function (e) {
      drawing = true; var p = point(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return; var p = point(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true;
    });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    box.querySelector("[data-signature-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; field.value = "";
    });
    box.closest("form").addEventListener("submit", function () {
      field.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  }
  document.querySelectorAll("[data-signature]").forEach(setup);
})();
