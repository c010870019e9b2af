// The radar beside the post-it form: keep what the person opened open when the
// list is refreshed, and after "Similar challenge" put focus on the answer.
// Fetching is htmx's (data-hx-* on the panel); focus never moves while typing.

const panel = document.querySelector(".radar");
if (panel) {
  let open = new Set();
  panel.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id !== "radar-results") return;
    open = new Set(
      [...panel.querySelectorAll("details[open][data-radar-code]")].map((d) => d.dataset.radarCode),
    );
  });
  panel.addEventListener("htmx:afterSettle", () => {
    for (const details of panel.querySelectorAll("details[data-radar-code]")) {
      if (open.has(details.dataset.radarCode)) details.open = true;
    }
    const answer = panel.querySelector("[data-radar-focus]");
    if (answer) {
      answer.removeAttribute("data-radar-focus");
      answer.focus();
    }
  });
}
