// Forms marked data-field-errors show a refused request's message next to the field it
// names (the error's `field`), or in the form's own slot when it names none.
(() => {
  "use strict";

  const formOf = (event) => {
    const elt = event.detail.elt;
    return elt && elt.matches && elt.matches("form[data-field-errors]") ? elt : null;
  };

  const clear = (form) => {
    form.querySelectorAll("[data-error-for]").forEach((slot) => {
      slot.textContent = "";
      slot.hidden = true;
    });
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  };

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = formOf(event);
    if (form) clear(form);
  });

  document.addEventListener("htmx:responseError", (event) => {
    const form = formOf(event);
    if (!form) return;
    let error;
    try {
      error = JSON.parse(event.detail.xhr.responseText).error;
    } catch (_) {
      return;
    }
    const field = error.field || "";
    const slot = (field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`))
      || form.querySelector('[data-error-for="form"]');
    if (!slot) return;
    slot.textContent = error.message;
    slot.hidden = false;
    const input = field && form.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  });
})();
