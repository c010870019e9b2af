// The live board: follow changes, count down, keyboard, drag and drop.
//
// Every screen asks a one-query endpoint "has the board changed since version
// N?" every second (every five when the tab is hidden). When it has, the live
// region is fetched again and swapped in, unless someone is typing inside it,
// in which case the swap waits until they leave the field.

const POLL_MS = 1000;
const HIDDEN_POLL_MS = 5000;

const root = document.querySelector("[data-board]");
if (root) start(root);

function start(root) {
  let live = document.getElementById("live");
  // Server clock minus this device's, measured at page load: timers count to the
  // server's end time, so every screen shows the same figure.
  const clockOffset = Number(root.dataset.serverTime) - Date.now();
  let pending = false;
  let inFlight = false;

  const version = () => live.dataset.version;

  async function poll() {
    if (!inFlight) {
      inFlight = true;
      try {
        const url = `${root.dataset.pollUrl}?v=${encodeURIComponent(version())}`;
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (response.status === 200) {
          const { v } = await response.json();
          if (String(v) !== version()) await refresh();
        }
      } catch {
        // Offline for a moment: the next poll catches up.
      } finally {
        inFlight = false;
      }
    }
    setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  function typingInLive() {
    const active = document.activeElement;
    return active && live.contains(active) && active.matches("input, textarea, select");
  }

  async function refresh() {
    if (typingInLive()) {
      pending = true;
      return;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", "live");
    const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
    if (!response.ok) return;
    swap(await response.text());
  }

  function swap(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const incoming = doc.getElementById("live");
    if (!incoming || Number(incoming.dataset.version) < Number(version())) return;
    const focusedCode = document.activeElement?.closest?.("[data-code]")?.dataset.code;
    live.replaceWith(incoming);
    live = incoming;
    window.htmx?.process(live);
    afterSwap(focusedCode);
  }

  function afterSwap(focusedCode) {
    showOwnControls();
    syncFocusInputs();
    syncNotes();
    if (focusedCode) live.querySelector(`[data-code="${focusedCode}"]`)?.focus();
    tick();
  }

  document.addEventListener("focusout", () => {
    if (pending && !typingInLive()) {
      pending = false;
      refresh();
    }
  });

  // htmx swaps (the moderator's own actions) land here too.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "live" || event.detail.elt?.id === "live") {
      live = document.getElementById("live");
      afterSwap(null);
    }
  });

  // Forms outside the live region reset after a successful save.
  document.body.addEventListener("board:saved", (event) => {
    const form = event.target.closest?.("form[data-reset-on-save]");
    if (form) {
      form.reset();
      syncFocusInputs();
    }
  });

  // Shared fragments carry everyone's remove buttons hidden; show this person's own.
  function showOwnControls() {
    for (const element of live.querySelectorAll("[data-author]")) {
      element.hidden = element.dataset.author !== root.dataset.user;
    }
  }

  // Hidden "topic" inputs follow the post-it that has the word.
  function syncFocusInputs() {
    for (const input of document.querySelectorAll("[data-focus-input]")) {
      input.value = live.dataset.focus || "";
    }
    const label = document.querySelector("[data-focus-label]");
    if (label && live.dataset.focusTitle !== undefined) {
      label.textContent = live.dataset.focusTitle ? `→ ${live.dataset.focusTitle}` : "";
    }
  }

  // The notes field shows the focused post-it's notes unless the moderator is editing them.
  let notesTopic = live.dataset.focus;
  function syncNotes() {
    const form = document.querySelector("[data-notes-form]");
    const source = document.getElementById("focus-notes");
    if (!form || !source) return;
    const field = form.elements.notes;
    const changedTopic = source.dataset.topic !== notesTopic;
    if (changedTopic || (document.activeElement !== field && !field.dataset.dirty)) {
      field.value = source.textContent;
      form.elements.notes_version.value = source.dataset.version;
      delete field.dataset.dirty;
      notesTopic = source.dataset.topic;
    }
  }
  document.addEventListener("input", (event) => {
    if (event.target.name === "notes") event.target.dataset.dirty = "true";
  });
  document.body.addEventListener("board:saved", (event) => {
    if (event.target.matches?.("[data-notes-form]")) delete event.target.elements.notes.dataset.dirty;
  });

  // The timer counts down locally from the server's figure; a calm signal at zero.
  function tick() {
    const timer = live.querySelector("[data-timer]");
    if (!timer) return;
    let remaining = Number(timer.dataset.remaining);
    if (timer.dataset.endsAt) {
      remaining = Math.ceil((Number(timer.dataset.endsAt) - (Date.now() + clockOffset)) / 1000);
    }
    const sign = remaining < 0 ? "−" : "";
    const abs = Math.abs(remaining);
    timer.textContent = `${sign}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
    const over = remaining <= 0;
    if (over && !timer.classList.contains("timer--over")) {
      timer.classList.add("timer--over");
      timer.setAttribute("aria-label", timer.dataset.msgOver);
    }
  }
  setInterval(tick, 250);

  // Keyboard (moderator's board only).
  if (root.dataset.view === "board") {
    const help = document.getElementById("help");
    document.querySelector("[data-help-open]")?.addEventListener("click", () => help.showModal());
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      if (target.matches("input, textarea, select") || event.ctrlKey || event.metaKey) return;
      const card = target.closest?.("[data-code]");
      const press = (selector) => live.querySelector(selector)?.click();
      if (event.altKey && card && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        card.querySelector(`[data-move="${event.key === "ArrowUp" ? "up" : "down"}"]`)?.click();
        return;
      }
      if (event.altKey) return;
      if (event.key === "Enter" && card && target === card) {
        event.preventDefault();
        card.querySelector("[data-give]")?.click();
      } else if (event.key === "n" || event.key === "ArrowRight") {
        press('[data-shortcut="next"]') ?? null;
        if (!live.querySelector('[data-shortcut="next"]')) live.querySelector("[data-give]")?.click();
      } else if (event.key === "p" || event.key === "ArrowLeft") {
        press('[data-shortcut="previous"]');
      } else if (event.key === "t") {
        press('[data-shortcut="timer"]');
      } else if (event.key === "i") {
        event.preventDefault();
        document.getElementById("idea-text")?.focus();
      } else if (event.key === "?") {
        help.showModal();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const cards = [...live.querySelectorAll("[data-code]")];
        const index = cards.indexOf(card);
        const next = cards[index + (event.key === "ArrowDown" ? 1 : -1)] ?? cards[0];
        if (next) {
          event.preventDefault();
          next.focus();
        }
      }
    });

    // Drag and drop reorders the agenda; the order is posted as a list of codes.
    let dragged = null;
    document.addEventListener("dragstart", (event) => {
      dragged = event.target.closest?.("[data-code]");
      if (dragged) event.dataTransfer.effectAllowed = "move";
    });
    document.addEventListener("dragover", (event) => {
      if (dragged && event.target.closest?.("[data-sortable]")) event.preventDefault();
    });
    document.addEventListener("drop", (event) => {
      const over = event.target.closest?.("[data-code]");
      const list = event.target.closest?.("[data-sortable]");
      if (!dragged || !list) return;
      event.preventDefault();
      if (over && over !== dragged) {
        const after = event.clientY > over.getBoundingClientRect().top + over.offsetHeight / 2;
        over.insertAdjacentElement(after ? "afterend" : "beforebegin", dragged);
      }
      const order = [...list.querySelectorAll("[data-code]")].map((el) => el.dataset.code).join(",");
      const form = dragged.querySelector("form");
      const body = new FormData(form);
      body.set("action", "reorder");
      body.set("order", order);
      dragged = null;
      // getAttribute: form.action would be the buttons named "action".
      fetch(form.getAttribute("action"), {
        method: "POST", body, credentials: "same-origin", headers: { "HX-Request": "true" },
      }).then((response) => (response.ok ? response.text() : null)).then((html) => {
        if (html) swap(html);
      });
    });
  }

  showOwnControls();
  syncFocusInputs();
  tick();
  setTimeout(poll, POLL_MS);
}
