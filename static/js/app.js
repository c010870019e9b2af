// Small behaviours shared by every page. No build step: a plain module.

const body = document.body;
const errorBox = document.getElementById("request-error");

// After htmx swaps in content, move focus to the first field with an error so
// keyboard and screen-reader users land where the problem is; a page that comes back
// from a plain form with errors does the same (its error may be far below the top).
const INVALID = ".field--error input, .field--error select, .field--error textarea";
body.addEventListener("htmx:afterSwap", (event) => {
  const invalid = event.detail.target.querySelector(INVALID);
  if (invalid) invalid.focus();
});
document.querySelector(`main ${INVALID.replaceAll(", ", ", main ")}`)?.focus();

// A button with data-confirm asks before its form is sent (a second guard; the
// server refuses what must not happen anyway).
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Every htmx request shows that it is working: the form (or element) that sent it
// is aria-busy and its buttons are disabled until the answer comes; the button
// pressed carries the `is-busy` class (a spinner in CSS).
function busyRoot(element) {
  return element.closest("form") ?? element;
}

body.addEventListener("htmx:beforeRequest", (event) => {
  const element = event.detail.elt;
  const rootElement = busyRoot(element);
  const submitter = event.detail.requestConfig?.triggeringEvent?.submitter;
  rootElement.setAttribute("aria-busy", "true");
  const buttons = rootElement.matches("form") ? [...rootElement.querySelectorAll("button")] : [];
  for (const button of buttons) {
    if (!button.disabled) {
      button.disabled = true;
      button.dataset.busyDisabled = "true";
    }
  }
  submitter?.classList.add("is-busy");
  hideError();
});

body.addEventListener("htmx:afterRequest", (event) => {
  const rootElement = busyRoot(event.detail.elt);
  rootElement.removeAttribute("aria-busy");
  for (const button of rootElement.querySelectorAll("[data-busy-disabled]")) {
    button.disabled = false;
    delete button.dataset.busyDisabled;
    button.classList.remove("is-busy");
  }
  for (const button of rootElement.querySelectorAll(".is-busy")) button.classList.remove("is-busy");
});

// Failures show a message in the page, in the person's language (the texts are
// translated attributes of <body>), never a silent nothing.
function showError(message) {
  if (!errorBox) return;
  errorBox.textContent = message;
  errorBox.hidden = false;
}
function hideError() {
  if (errorBox && !errorBox.hidden) {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }
}
const failureMessage = (status) => (!status ? body.dataset.msgNetwork
  : status === 403 || status === 401 ? body.dataset.msgForbidden : body.dataset.msgServer);
body.addEventListener("htmx:sendError", () => showError(failureMessage(0)));
body.addEventListener("htmx:timeout", () => showError(failureMessage(0)));
body.addEventListener("htmx:responseError", (event) => showError(failureMessage(event.detail.xhr?.status)));
// Requests a page's own script makes (fetch) report failures the same way:
// `request:failed` with the HTTP status, or 0 when the server was not reached.
body.addEventListener("request:failed", (event) => showError(failureMessage(event.detail?.status)));
// The message stays until the next request, or until it is clicked or Escape is pressed.
errorBox?.addEventListener("click", hideError);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") hideError();
});

// Plain forms (no htmx) show the same while the page is being sent, and cannot
// be sent twice by a double click. Disabled after the submit event, so the
// pressed button's name and value still travel with the form.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.hasAttribute("data-hx-post") || form.method === "dialog") return;
  if (form.closest("[data-hx-post], [data-hx-get]")) return;
  setTimeout(() => {
    if (event.defaultPrevented) return;
    form.setAttribute("aria-busy", "true");
    event.submitter?.classList.add("is-busy");
    for (const button of form.querySelectorAll("button:not([disabled])")) {
      button.disabled = true;
      button.dataset.busyDisabled = "true";
    }
  }, 0);
});
// Coming back with the browser's back button shows the page as it was: not busy.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[aria-busy]")) form.removeAttribute("aria-busy");
  for (const button of document.querySelectorAll("[data-busy-disabled]")) {
    button.disabled = false;
    delete button.dataset.busyDisabled;
  }
  for (const button of document.querySelectorAll(".is-busy")) button.classList.remove("is-busy");
});
