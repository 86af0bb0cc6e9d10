// The back office's forms (templates/backoffice/layout.html). A form marked data-form posts
// through htmx and is replaced by the server's answer: on 422 the same form with each
// field's error next to it, so refused input is shown, not dropped (htmx leaves a 4xx
// unswapped unless told).
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", (event) => {
    const elt = event.detail.elt;
    if (event.detail.xhr.status === 422 && elt.closest && elt.closest("[data-form]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // After a swap, the first field in error gets the focus: a keyboard or a screen reader
  // lands where the correction is needed.
  document.addEventListener("htmx:afterSwap", (event) => {
    const wrong = document.querySelector("[data-form] [aria-invalid=true]");
    if (wrong) wrong.focus();
  });
  // On a phone the navigation scrolls sideways: the current section is brought into view.
  document.addEventListener("DOMContentLoaded", () => {
    const here = document.querySelector(".bo-nav [aria-current=page]");
    if (here) here.scrollIntoView({block: "nearest", inline: "center"});
  });
})();
