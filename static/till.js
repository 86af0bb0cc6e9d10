// The till's PIN keypad: its keys type into the PIN field (a real field too, for a keyboard).
(() => {
  "use strict";
  document.addEventListener("click", (event) => {
    const key = event.target.closest(".pin-key[data-digit], .pin-key[data-clear]");
    if (!key) return;
    const form = key.closest("form[data-pin-pad]");
    const input = form && form.querySelector('input[name="pin"]');
    if (!input) return;
    if (key.hasAttribute("data-clear")) input.value = input.value.slice(0, -1);
    else if (input.value.length < 6) input.value += key.dataset.digit;
    input.focus();
  });
})();
