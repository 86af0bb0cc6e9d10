// The menu's back-office pages.
//   form[data-form]      a refused form (422 with HTML) is swapped in, errors beside fields;
//                        a refusal in JSON is said in the form's output.error (and a toast)
//   [data-reload]        reload the page once the change is saved
//   [data-sortable]      drag its children ([data-id]) to reorder; the new order is posted
//                        to data-order-url as `order=1,2,3` (arrow buttons do the same by
//                        keyboard, one step at a time)
//   select[data-go]      go to data-go + the chosen value (the site picker)
(function () {
  "use strict";
  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
    } catch (_) {
      return "";
    }
  }
  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    const html = (xhr.getResponseHeader("content-type") || "").startsWith("text/html");
    if (xhr.status === 422 && html && event.detail.elt.closest("[data-form]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    const form = elt.closest && elt.closest("form");
    const output = form && form.querySelector("output.error");
    if (!event.detail.successful && output && event.detail.xhr) {
      try {
        output.textContent = JSON.parse(event.detail.xhr.responseText).error.message;
      } catch (_) { /* HTML: swapped in */ }
      return;
    }
    if (output) output.textContent = "";
    if (event.detail.successful && elt.dataset.reload !== undefined) location.reload();
  });

  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest("[data-sortable] > [data-id]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });
  document.addEventListener("dragover", (event) => {
    const over = event.target.closest && event.target.closest("[data-sortable] > [data-id]");
    if (!dragged || !over || over === dragged || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", (event) => {
    if (dragged) event.preventDefault();
  });
  document.addEventListener("dragend", () => {
    if (!dragged) return;
    const list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    const order = Array.from(list.children).map((child) => child.dataset.id).join(",");
    const body = new URLSearchParams({ order: order });
    if (list.dataset.category) body.set("category_id", list.dataset.category);
    fetch(list.dataset.orderUrl, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf() },
      body: body,
      credentials: "same-origin",
    }).then((response) => {
      if (!response.ok) location.reload(); // the server's order stands
    }, () => location.reload());
  });

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select.dataset && select.dataset.go) location.href = select.dataset.go + select.value;
  });
})();
