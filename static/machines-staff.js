// Managers' machine pages. Forms post to the JSON API through htmx (hx-swap="none");
// what they show afterwards is decided here by data attributes:
//   data-refresh="#id"  fetch that element again (its hx-get), keeping what is typed elsewhere
//   data-reload         reload the page
//   data-secret         show the new device secret, once, in the form's <output>
// A refused change leaves the form as typed and says why in its output.error.
(function () {
  "use strict";
  function message(xhr) {
    try {
      return JSON.parse(xhr.responseText).error.message;
    } catch (_) {
      return xhr.statusText;
    }
  }
  function saved(form) {
    // The values just saved become the form's own, so a refresh shows the server's.
    for (const input of form.querySelectorAll("input, textarea")) input.defaultValue = input.value;
    for (const option of form.querySelectorAll("option")) option.defaultSelected = option.selected;
  }
  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (elt.hasAttribute("hx-get")) return; // a refresh, not a change
    const form = elt.closest("form") || elt;
    const error = form.querySelector && form.querySelector("output.error");
    if (!event.detail.successful) {
      if (error && event.detail.xhr) error.textContent = message(event.detail.xhr);
      return;
    }
    if (error) error.textContent = "";
    if (elt.dataset.secret !== undefined) {
      elt.querySelector("output.secret").textContent = JSON.parse(event.detail.xhr.responseText).secret;
    }
    if (form.tagName === "FORM") saved(form);
    if (elt.dataset.reload !== undefined) location.reload();
    const target = elt.dataset.refresh && document.querySelector(elt.dataset.refresh);
    if (target) window.htmx.trigger(target, "refresh");
  });
  // A refreshed list keeps what the manager was typing in its other rows.
  let kept = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.dataset.keep !== undefined) kept = window.comptoir.keep(event.detail.target);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (kept && event.detail.target.dataset.keep !== undefined) {
      window.comptoir.restore(event.detail.target, kept);
      kept = null;
    }
  });
})();
