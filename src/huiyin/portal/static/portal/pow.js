/* The submission form's proof of work (huiyin.portal.challenge): find n such that
   SHA-256("<challenge>:<n>") starts with <bits> zero bits. Plain JavaScript SHA-256, so it also
   works where crypto.subtle is missing (a page served over plain HTTP). Runs in small slices
   so the page stays responsive; the form waits for it if submitted early. */
(function () {
  "use strict";
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var W = new Uint32Array(64);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  /* SHA-256 of an ASCII string; returns the first 32-bit word of the digest and fills out[0..7]. */
  function sha256(text, out) {
    var length = text.length;
    var blocks = ((length + 9 + 63) >> 6);
    var bytes = new Uint8Array(blocks * 64);
    for (var i = 0; i < length; i++) { bytes[i] = text.charCodeAt(i) & 0xff; }
    bytes[length] = 0x80;
    var bits = length * 8;
    bytes[bytes.length - 4] = (bits >>> 24) & 0xff;
    bytes[bytes.length - 3] = (bits >>> 16) & 0xff;
    bytes[bytes.length - 2] = (bits >>> 8) & 0xff;
    bytes[bytes.length - 1] = bits & 0xff;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a;
    var h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (var b = 0; b < blocks; b++) {
      var o = b * 64;
      for (var t = 0; t < 16; t++) {
        W[t] = (bytes[o + 4 * t] << 24) | (bytes[o + 4 * t + 1] << 16) | (bytes[o + 4 * t + 2] << 8) | bytes[o + 4 * t + 3];
      }
      for (t = 16; t < 64; t++) {
        var s0 = rotr(W[t - 15], 7) ^ rotr(W[t - 15], 18) ^ (W[t - 15] >>> 3);
        var s1 = rotr(W[t - 2], 17) ^ rotr(W[t - 2], 19) ^ (W[t - 2] >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
      var a = h0, c1 = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (t = 0; t < 64; t++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var temp1 = (h + S1 + ch + K[t] + W[t]) | 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & c1) ^ (a & c) ^ (c1 & c);
        var temp2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + temp1) | 0;
        d = c; c = c1; c1 = a; a = (temp1 + temp2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + c1) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    if (out) { out[0] = h0; out[1] = h1; out[2] = h2; out[3] = h3; out[4] = h4; out[5] = h5; out[6] = h6; out[7] = h7; }
    return h0 >>> 0;
  }

  function zeroBits(words) {
    var count = 0;
    for (var i = 0; i < 8; i++) {
      var w = words[i] >>> 0;
      if (w === 0) { count += 32; continue; }
      return count + Math.clz32(w);
    }
    return count;
  }

  function solve(challenge, bits, done) {
    var words = new Uint32Array(8);
    var n = 0;
    function slice() {
      var end = n + 4000;
      for (; n < end; n++) {
        sha256(challenge + ":" + n, words);
        if (zeroBits(words) >= bits) { done(String(n)); return; }
      }
      setTimeout(slice, 0);
    }
    slice();
  }

  window.HuiyinPow = { sha256: sha256, zeroBits: zeroBits, solve: solve };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-pow]");
    if (!form) { return; }
    var input = form.querySelector("[data-pow-challenge]");
    var output = form.querySelector("[data-pow-solution]");
    var status = document.getElementById("pow-status");
    var challenge = input.value;
    var bits = parseInt(challenge.split(".")[3], 10) || 0;
    var solved = false;
    var waiting = false;
    status.textContent = form.dataset.powWorking;
    solve(challenge, bits, function (n) {
      output.value = n;
      solved = true;
      status.textContent = form.dataset.powDone;
      if (waiting) { form.submit(); }
    });
    form.addEventListener("submit", function (event) {
      if (solved) { return; }
      event.preventDefault();
      waiting = true;
      status.textContent = form.dataset.powWait;
    });
  });
})();
