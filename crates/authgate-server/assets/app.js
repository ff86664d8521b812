// authgate pages: small touches only; every page works without this file.
// The account page's "time left" of the access token counts down live.
(function () {
  "use strict";
  var el = document.querySelector(".countdown[data-exp]");
  if (!el) return;
  var exp = Number(el.getAttribute("data-exp"));
  function human(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function tick() {
    var left = exp - Math.floor(Date.now() / 1000);
    el.textContent = left > 0 ? human(left) + " left" : "expired " + human(-left) + " ago";
    if (left > 0) setTimeout(tick, 1000);
  }
  tick();
})();

// A "Copy" button (hidden without this script) copies its target's text,
// such as a service client's secret, shown once; without the script the
// text is selectable as it is.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copied");
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent).then(function () {
        if (status) status.textContent = "Copied";
      }, function () {
        if (status) status.textContent = "Select the text to copy it";
      });
    });
  });
})();
