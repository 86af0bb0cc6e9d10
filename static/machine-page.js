// A machine's page (from its QR code): its drink buttons are disabled while the machine
// brews, from its live state (#machine-live .machine-state[data-busy]), and enabled again
// when the brew ends, so that a second press cannot meet a refusal. A press disables them
// at once, until the machine's state says it took the drink (or the press failed).
(function () {
  "use strict";
  let pressed = false;
  let pressTimer = null;

  function busy() {
    const state = document.querySelector("#machine-live .machine-state");
    return Boolean(state) && state.dataset.busy === "yes";
  }

  function update() {
    const hold = pressed || busy();
    for (const button of document.querySelectorAll(".drinks-offer .drink button")) {
      button.disabled = hold;
    }
    const offer = document.querySelector(".drinks-offer");
    if (offer) offer.dataset.brewing = hold ? "yes" : "no";
  }

  function release() {
    pressed = false;
    if (pressTimer) clearTimeout(pressTimer);
    pressTimer = null;
    update();
  }

  function isDrink(event) {
    const form = event.detail && event.detail.elt;
    return Boolean(form && form.closest && form.closest(".drink"));
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (!isDrink(event)) return;
    pressed = true;
    update();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!isDrink(event)) return;
    if (!event.detail.successful) {
      release();
      return;
    }
    // Taken: the machine's state says busy any moment now; should it never say so (a
    // drink done before its news arrived), the buttons come back after a while anyway.
    pressTimer = setTimeout(release, 8000);
  });
  document.addEventListener("comptoir:applied", () => {
    if (busy()) pressed = false; // from now on the machine's state decides
    update();
  });
  document.addEventListener("DOMContentLoaded", update);
})();
