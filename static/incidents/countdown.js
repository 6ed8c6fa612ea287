// Live countdowns of regulator deadlines: each [data-countdown="<ISO instant>"] shows the time left
// (or overdue) and is refreshed every 15 seconds. The server renders the same text, so the page
// reads right without JavaScript; this only keeps it current.
(function () {
  "use strict";

  function text(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (days) { return days + " d " + pad(hours) + " h " + pad(mins) + " min"; }
    if (hours) { return hours + " h " + pad(mins) + " min"; }
    return mins + " min";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(due)) { return; }
      var left = due - now;
      if (left < 0) {
        el.textContent = el.getAttribute("data-overdue-label") + " " + text(left);
        el.classList.add("text-danger", "fw-semibold");
      } else {
        el.textContent = text(left) + " " + el.getAttribute("data-left-label");
      }
    });
  }

  if (!window.qgovCountdown) {
    window.qgovCountdown = true;
    tick();
    window.setInterval(tick, 15000);
  }
}());
