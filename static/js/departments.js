// The departments on the group's settings page: reordering by drag and drop and by
// keyboard (Alt + ↑/↓ on the row in focus), and the short name shown on the colour
// swatches as it is typed. Without JavaScript the ↑/↓ buttons post the same change.

// Swatches show the short name being typed, as the post-it will.
for (const form of document.querySelectorAll("[data-department-form]")) {
  const source = form.querySelector("[data-preview-source]");
  if (!source) continue;
  const update = () => {
    const text = source.value.trim() || "HR";
    for (const badge of form.querySelectorAll("[data-preview]")) badge.textContent = text;
  };
  source.addEventListener("input", update);
  update();
}

function post(list, body) {
  // htmx swaps the returned list in and puts focus back on the element with the same id.
  window.htmx.ajax("POST", list.dataset.sortableUrl, {
    source: list,
    target: "#departments",
    swap: "outerHTML",
    values: body,
  });
}

function order(list) {
  return [...list.querySelectorAll("[data-sortable-item]")].map((item) => item.dataset.code).join(",");
}

document.addEventListener("keydown", (event) => {
  const item = event.target.closest?.("[data-sortable-item]");
  if (!item || event.target !== item || !event.altKey) return;
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  event.preventDefault();
  const sibling = event.key === "ArrowUp" ? item.previousElementSibling : item.nextElementSibling;
  if (!sibling) return;
  sibling.insertAdjacentElement(event.key === "ArrowUp" ? "beforebegin" : "afterend", item);
  item.focus();
  post(item.closest("[data-sortable-list]"), { action: "reorder", order: order(item.parentElement) });
});

let dragged = null;
document.addEventListener("dragstart", (event) => {
  dragged = event.target.closest?.("[data-sortable-item]") ?? null;
  if (dragged) event.dataTransfer.effectAllowed = "move";
});
document.addEventListener("dragover", (event) => {
  if (dragged && event.target.closest?.("[data-sortable-list]")) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  const list = event.target.closest?.("[data-sortable-list]");
  if (!dragged || !list) return;
  event.preventDefault();
  const over = event.target.closest("[data-sortable-item]");
  if (over && over !== dragged) {
    const after = event.clientY > over.getBoundingClientRect().top + over.offsetHeight / 2;
    over.insertAdjacentElement(after ? "afterend" : "beforebegin", dragged);
  }
  const moved = dragged;
  dragged = null;
  post(list, { action: "reorder", order: order(list) });
  moved.focus();
});
