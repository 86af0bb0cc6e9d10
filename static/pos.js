// The POS page: after a cash settlement with change to give back, the change in large
// type, until the cashier dismisses it (exact money needs no extra tap). The amount comes from the settlement's answer (the server computes
// it); the page formats it the way of its language.
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

  // The form may already have left the page (the live view swapped the settled table in
  // first): htmx then tells its nearest ancestor still there, and the form is in `elt`.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!event.detail.successful || !form.matches || !form.matches("form[data-settle]")) return;
    let payment = null;
    try {
      payment = JSON.parse(event.detail.xhr.responseText).payment;
    } catch (_) {
      return;
    }
    if (!payment || payment.method !== "cash" || !(payment.change > 0)) return;
    const tile = form.closest(".table-tile");
    show(payment, tile ? tile.dataset.tableLabel || "" : "");
  });

  done.addEventListener("click", () => {
    panel.hidden = true;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) panel.hidden = true;
  });
})();
