// The dashboard's live widgets: when the company's statistics move (an event on the live
// topic `stats:{company}`, static/live.js), each widget whose period includes now is
// fetched again (its hx-trigger "stats from:body"; backoffice/dashboard_pages.py).
(function () {
  "use strict";
  document.addEventListener("comptoir:applied", (event) => {
    const message = event.detail || {};
    if (message.type !== "event" || !String(message.topic || "").startsWith("stats:")) return;
    if (window.htmx) window.htmx.trigger(document.body, "stats");
  });
})();
