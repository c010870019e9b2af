// Small behaviours shared by every page. No build step: a plain module.

// After htmx swaps in content, move focus to the first field with an error so
// keyboard and screen-reader users land where the problem is.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const invalid = event.detail.target.querySelector(".field--error input, .field--error select, .field--error textarea");
  if (invalid) invalid.focus();
});

// A button with data-confirm asks before its form is sent (a second guard; the
// server refuses what must not happen anyway).
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
