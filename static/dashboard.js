// The dashboard's live widgets: when the company's statistics move (an event on the live
// topic `stats:{company}`, static/live.js), each widget whose period includes now is
// fetched again (its hx-trigger "stats from:body"; backoffice/dashboard_pages.py). A
// snapshot after the first one (a reconnect, a missed version) may hide changes: the same.
(function () {
  "use strict";
  let first = true;
  document.addEventListener("comptoir:applied", (event) => {
    const message = event.detail || {};
    if (!String(message.topic || "").startsWith("stats:")) return;
    const opening = first && message.type === "snapshot";
    first = false;
    if (!opening && window.htmx) window.htmx.trigger(document.body, "stats");
  });
})();
