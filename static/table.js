// A diner's phone: adding from anywhere in the menu is seen and heard where the diner is
// (the cart bar pulses, a screen reader is told), and a product already in one's own cart
// (without a note) gets one more rather than a second line.
(function () {
  "use strict";
  let added = null; // what to announce once the add went through

  function announce(text) {
    const box = document.getElementById("cart-announce");
    if (!box || !text) return;
    box.textContent = "";
    setTimeout(() => { box.textContent = text; }, 50); // the same text twice is heard twice
  }

  function pulse() {
    const bar = document.getElementById("cart-bar");
    if (!bar) return;
    bar.classList.remove("pulse");
    void bar.offsetWidth; // restart the animation
    bar.classList.add("pulse");
  }

  // Capture phase: before htmx sends the form, one's own plain line takes the "+".
  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("form.add-form");
    if (!form) return;
    const button = form.querySelector("button.add");
    added = button ? button.dataset.added : null;
    const product = form.querySelector("[name=product_id]").value;
    const line = document.querySelector(
      '#cart .line.own[data-plain][data-product="' + CSS.escape(product) + '"]');
    const more = line && line.querySelector("button[data-step=up]");
    if (more) {
      event.preventDefault();
      event.stopPropagation();
      more.click();
    }
  }, true);

  // A note saved: its editor closes (found afresh: a live swap may have replaced it).
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!event.detail.successful || !form.matches || !form.matches("form.note-form")) return;
    const line = form.closest(".line");
    const id = line && line.dataset.line;
    const details = id && document.querySelector(
      '#cart .line[data-line="' + CSS.escape(id) + '"] details.line-note');
    if (details) details.open = false;
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (!added || !elt.matches || !elt.matches("form.add-form, button[data-step=up]")) return;
    if (event.detail.successful) {
      pulse();
      announce(added);
    }
    added = null;
  });
  document.addEventListener("animationend", (event) => {
    if (event.target.closest && event.target.closest("#cart-bar")) {
      document.getElementById("cart-bar").classList.remove("pulse");
    }
  });
})();
