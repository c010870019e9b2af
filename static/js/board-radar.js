// The board's radar follows the post-it that has the word: when the live region
// (swapped by board.js) names another post-it, ask htmx to load the radar again.
// board.js keeps the hidden "topic" input (data-focus-input) in step.

const radar = document.querySelector("[data-board-radar]");
const layout = document.querySelector(".board-layout");
if (radar && layout && window.htmx) {
  let shown = document.getElementById("live")?.dataset.focus ?? "";
  new MutationObserver(() => {
    const focus = document.getElementById("live")?.dataset.focus ?? "";
    if (focus === shown) return;
    shown = focus;
    const input = document.getElementById("board-radar-topic");
    if (input) input.value = focus;
    window.htmx.trigger(radar, "radar:refresh");
  }).observe(layout, { childList: true });
}
