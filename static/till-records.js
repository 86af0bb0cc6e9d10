// The till's refunds and reports: a supervisor's approval asked when the server says so
// (409 approval_needed), and a report printed on the receipt printer's 80 mm paper.
(() => {
  "use strict";

  document.addEventListener("htmx:responseError", (event) => {
    const form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form")) return;
    let error;
    try {
      error = JSON.parse(event.detail.xhr.responseText).error || {};
    } catch (_) {
      return;
    }
    const approval = form.querySelector("[data-approval]");
    if (!approval) return;
    if (error.code === "approval_needed" || error.code === "pin_refused") {
      approval.hidden = false;
      const pin = approval.querySelector('input[name="approval_pin"]');
      if (pin) {
        pin.value = "";
        pin.focus();
      }
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "report-out") {
      target.scrollIntoView({ block: "start" });
      const form = event.detail.requestConfig && event.detail.requestConfig.elt;
      const pin = form && form.querySelector && form.querySelector('input[name="approval_pin"]');
      if (pin) pin.value = "";
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
