// The POS page: after a cash settlement with change to give back, the change in large
// type, until the cashier dismisses it (exact money needs no extra tap). The amount comes
// from the settlement's answer (the server computes it); the page formats it the way of
// its language.
(() => {
  "use strict";
  const panel = document.getElementById("pos-change");
  if (!panel) return;
  const done = panel.querySelector(".pos-change-done");

  function format(minor) {
    const lang = document.documentElement.lang || "fr";
    const money = new Intl.NumberFormat(lang, { style: "currency", currency: panel.dataset.currency });
    return money.format(minor / 10 ** money.resolvedOptions().maximumFractionDigits);
  }

  function show(payment, table) {
    panel.querySelector(".pos-change-table").textContent = table;
    panel.querySelector(".pos-change-amount").textContent =
      panel.dataset.text.replace("{amount}", format(payment.change));
    panel.querySelector(".pos-change-paid").textContent = panel.dataset.paidText
      .replace("{tendered}", format(payment.tendered)).replace("{amount}", format(payment.amount));
    panel.hidden = false;
    done.focus();
  }

  // The answer is read from the request itself: the live view may swap the settled table
  // in before the answer arrives, and a form no longer on the page hears no htmx event.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-settle]")) return;
    const tile = form.closest(".table-tile");
    const table = tile ? tile.dataset.tableLabel || "" : "";
    const xhr = event.detail.xhr;
    xhr.addEventListener("load", () => {
      if (xhr.status < 200 || xhr.status >= 300) return;
      let payment = null;
      try {
        payment = JSON.parse(xhr.responseText).payment;
      } catch (_) {
        return;
      }
      if (!payment || payment.method !== "cash" || !(payment.change > 0)) return;
      show(payment, table);
    });
  });

  done.addEventListener("click", () => {
    panel.hidden = true;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) panel.hidden = true;
  });
})();
