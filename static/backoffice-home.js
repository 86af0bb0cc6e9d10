// The back office's home: the day, live. Every snapshot or event of a topic the page
// watches (its sites' POS, its machines, the day's figures: static/live.js) makes it fetch
// the day's fragment again, at most once every half second and one request at a time: the
// database is the truth, the fragment its snapshot. A timer on the fragment (hx-trigger)
// catches up on whatever the page could not watch.
(function () {
  "use strict";
  const day = document.getElementById("live-day");
  if (!day) return;
  const GAP_MS = 500;
  let last = 0;
  let timer = null;
  let busy = false;
  let again = false;

  function refresh() {
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    last = Date.now();
    window.htmx.trigger(day, "refresh");
  }
  function soon() {
    if (!timer) timer = setTimeout(refresh, Math.max(0, last + GAP_MS - Date.now()));
  }
  document.addEventListener("comptoir:applied", soon);
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== day) return;
    busy = false;
    if (again) {
      again = false;
      soon();
    }
  });
})();
