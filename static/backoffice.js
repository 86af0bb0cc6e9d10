// Back-office forms (templates/backoffice/_forms.html) post through htmx and swap <main>.
// A 422 is the page again with each error next to its field: swap it like a success. Any
// other refusal (403, 404, 409) is JSON: its message goes to the page's alert.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", (event) => {
    const out = document.querySelector("output.bo-error");
    if (!out) return;
    try {
      out.textContent = JSON.parse(event.detail.xhr.responseText).error.message;
    } catch (_) {
      out.textContent = event.detail.xhr.statusText;
    }
  });
})();
