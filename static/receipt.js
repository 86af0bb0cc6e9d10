// Printing a receipt from its page: the server first records the print (the original the
// first time, a duplicate afterwards, whose own page then prints "DUPLICATA n").
(() => {
  "use strict";

  const csrf = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"] || "";
    } catch (_) {
      return "";
    }
  };

  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("[data-browser-print]");
    if (!button) return;
    const status = document.getElementById("receipt-status");
    button.disabled = true;
    try {
      const answer = await fetch(button.dataset.browserPrint, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
        body: JSON.stringify({idempotency_key: button.dataset.key}),
      });
      const data = await answer.json();
      if (!answer.ok) {
        if (status) status.textContent = (data.error && data.error.message) || "";
        return;
      }
      if (data.print) window.print();
      else window.location.assign(data.redirect);
    } catch (_) {
      if (status) status.textContent = document.body.dataset.offlineText || "";
    } finally {
      button.disabled = false;
    }
  });

  if (new URLSearchParams(window.location.search).get("print") === "1") {
    window.addEventListener("load", () => window.print());
  }
})();
