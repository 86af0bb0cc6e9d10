// The back office's forms (templates/backoffice/_forms.html, _fields.html: marked
// data-form or swapping <main>) post through htmx and are replaced by the server's answer. A 422 is the page or form again with each
// field's error next to it: swap it like a success, so refused input is shown, not dropped
// (htmx leaves a 4xx unswapped unless told). Any other refusal (403, 404, 409) is JSON: its
// message goes to the page's alert.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", (event) => {
    // detail.elt is the swap's target (<main> for a form that swaps it); the form that
    // asked is the request's element.
    const asked = event.detail.requestConfig && event.detail.requestConfig.elt;
    const ours = [event.detail.elt, asked].some(
      (elt) => elt && elt.closest && elt.closest("[data-form], [hx-select='main']"));
    if (event.detail.xhr.status === 422 && ours) {
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
  // After a swap, the first field in error gets the focus: a keyboard or a screen reader
  // lands where the correction is needed.
  document.addEventListener("htmx:afterSwap", () => {
    const wrong = document.querySelector("main [aria-invalid=true]");
    if (wrong) wrong.focus();
  });
  // The staff form's sections are for the roles that open some (data-roles): shown when
  // such a role is chosen, hidden otherwise (the server ignores them for the others).
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.matches || !select.matches("select[name=role]") || !select.form) return;
    select.form.querySelectorAll("[data-roles]").forEach((set) => {
      set.hidden = !set.dataset.roles.split(" ").includes(select.value);
    });
  });
  // A secret shown once (a new machine's) leaves the page with the browser: going back to
  // the page from the browser's cache must not show it again.
  window.addEventListener("pagehide", () => {
    document.querySelectorAll("[data-secret-once]").forEach((el) => el.remove());
  });
  // A campaign's editor (form[data-preview]): its preview frame follows the typing, half a
  // second after the last key (the preview is a GET of the form's fields: it saves nothing).
  let previewTimer = null;
  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("form[data-preview]");
    if (!form) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => {
      const frame = document.querySelector(`iframe[name="${form.dataset.preview}"]`);
      const fields = new URLSearchParams();
      new FormData(form).forEach((value, name) => {
        if (typeof value === "string" && value !== "") fields.append(name, value);
      });
      if (frame) frame.src = "/backoffice/campaigns/preview?" + fields.toString();
    }, 500);
  });
  // On a phone the navigation scrolls sideways: the current section is brought into view;
  // after a save, the form that says "Saved." is.
  document.addEventListener("DOMContentLoaded", () => {
    const here = document.querySelector(".bo-nav [aria-current=page]");
    if (here) here.scrollIntoView({block: "nearest", inline: "center"});
    const saved = document.querySelector("main [data-saved]");
    if (saved) saved.scrollIntoView({block: "center"});
  });
})();
