// Printing a receipt from its page, at a till: the server first records the print (the
// original the first time, a duplicate afterwards, whose own page then prints "DUPLICATA
// n"); it answers the event `receipt-print` for the original, a redirect for a duplicate.
(() => {
  "use strict";
  document.body.addEventListener("receipt-print", () => window.print());
  if (new URLSearchParams(window.location.search).get("print") === "1") {
    window.addEventListener("load", () => window.print());
  }
})();
