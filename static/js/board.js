// The live board: follow changes, count down, keyboard, focus, drag and drop.
//
// Three parts, kept apart so each can change alone:
// - followStream()/followVersions(): learn that the board has a new version. The
//   projector and participant screens follow a server-sent-events stream that carries
//   the new fragment itself; without one (no Redis, a buffering proxy, the stream
//   process restarting) and on the moderator's board, a one-query endpoint is polled
//   every second (every five when the tab is hidden).
// - refresh()/swap(): fetch the page's live fragment and swap it in, unless
//   someone is typing inside it (then the swap waits until they leave the field),
//   keeping focus and open disclosures where they were.
// - the moderator's keyboard and focus rules, the projector's full screen.

const POLL_MS = 1000;
const HIDDEN_POLL_MS = 5000;
const STREAM_SILENT_MS = 5000; // no first message by then: a proxy is buffering the stream
const STREAM_RETRY_MS = 15000; // after giving up on a stream, try a new one this often

// Keys of the moderator's board (the help dialog lists each; a test checks it).
export const BOARD_KEYS = {
  n: "next",
  ArrowRight: "next",
  p: "previous",
  ArrowLeft: "previous",
  t: "timer",
  "+": "more",
  "-": "less",
  i: "idea",
  "?": "help",
};
// Actions after which focus goes to the agenda item that has the word.
const TO_CURRENT = new Set(["give", "next", "previous", "start", "parked", "submitted"]);

const root = document.querySelector("[data-board]");
if (root) start(root);

// Polls the one-query version endpoint; `active()` says whether to poll now (the
// stream, when it is healthy, makes polling unnecessary).
function followVersions(root, currentVersion, onNewVersion, active = () => true) {
  let inFlight = false;
  async function poll() {
    if (!inFlight && active()) {
      inFlight = true;
      try {
        const url = `${root.dataset.pollUrl}?v=${encodeURIComponent(currentVersion())}`;
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (response.status === 200) {
          const { v } = await response.json();
          if (String(v) !== currentVersion()) await onNewVersion(v);
        }
      } catch {
        // Offline for a moment: the next poll catches up.
      } finally {
        inFlight = false;
      }
    }
    setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }
  setTimeout(poll, POLL_MS);
}

// The projector and participant screens follow the stream (server-sent events) when the
// page names one; it sends the current fragment at once and each change after. While it
// is down (never opened, reconnecting, or held back by a buffering proxy) the screen
// polls, so no change is lost either way.
function followStream(root, onFragment) {
  const url = root.dataset.streamUrl;
  const status = { healthy: false };
  // Which way this screen follows the board now ("stream" or "poll"): for tests and support.
  const mode = (healthy) => {
    status.healthy = healthy;
    root.dataset.live = healthy ? "stream" : "poll";
  };
  mode(false);
  if (!url || !window.EventSource) return status;
  let source = null;
  let silentTimer = null;

  function open() {
    source = new EventSource(url, { withCredentials: true });
    silentTimer = setTimeout(giveUp, STREAM_SILENT_MS);
    source.addEventListener("live", (message) => {
      clearTimeout(silentTimer);
      mode(true);
      onFragment(message.data);
    });
    source.addEventListener("error", () => {
      // The browser reconnects by itself (readyState CONNECTING); poll meanwhile.
      mode(false);
      if (source.readyState === EventSource.CLOSED) giveUp();
    });
  }

  function giveUp() {
    clearTimeout(silentTimer);
    mode(false);
    source?.close();
    setTimeout(open, STREAM_RETRY_MS);
  }

  open();
  return status;
}

function start(root) {
  let live = document.getElementById("live");
  const view = root.dataset.view;
  // Server clock minus this device's, measured at page load: timers count to the
  // server's end time, so every screen shows the same figure.
  const clockOffset = Number(root.dataset.serverTime) - Date.now();
  let pending = false;
  let intent = null; // what the moderator just pressed: decides where focus goes

  const version = () => live.dataset.version;

  // Someone is writing inside the live region: in a field, or with a changed text in an
  // open disclosure (editing an idea, then on to its Save button). A swap now would take
  // their text with the old field, so it waits.
  function typingInLive() {
    const active = document.activeElement;
    if (active && live.contains(active) && active.matches("input, textarea, select")) return true;
    return [...live.querySelectorAll("details[open] textarea")].some((field) => field.value !== field.defaultValue);
  }

  async function refresh(force = false) {
    if (typingInLive()) {
      pending = true;
      return;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", "live");
    const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
    if (!response.ok) return;
    swap(await response.text(), force);
  }

  const keyOf = (element) => element?.closest?.("[data-focus-key]")?.dataset.focusKey;
  const byKey = (key) => key && live.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);

  // A person's own action (an htmx request whose target is #live) and a change learnt
  // from the poll or the stream must not cross. htmx resolves its target when it sends:
  // had a background swap replaced #live meanwhile, the answer would find its target gone
  // and htmx would drop it without a word (no swap, no htmx:afterSwap, focus left on
  // <body>). So while such a request is on its way, fragments from the poll or the stream
  // wait (the newest is kept), and are swapped in after its answer only if newer.
  let acting = 0;
  let held = null;
  document.body.addEventListener("htmx:beforeSend", (event) => {
    if (event.detail.target?.id !== "live") return;
    acting += 1;
    // "loadend" follows htmx's own load/error/abort/timeout handling (its swap included),
    // and fires on the request itself, so a form the swap removed cannot hide it.
    event.detail.xhr.addEventListener("loadend", () => {
      acting -= 1;
      if (acting === 0 && held) {
        const waiting = held;
        held = null;
        swapIn(waiting);
      }
    });
  });

  function swap(html, force = false) {
    const incoming = new DOMParser().parseFromString(html, "text/html").getElementById("live");
    if (!incoming) return;
    if (force) incoming.dataset.force = "true";
    if (acting > 0) {
      if (!held || Number(incoming.dataset.version) > Number(held.dataset.version)) held = incoming;
      return;
    }
    swapIn(incoming);
  }

  function swapIn(incoming) {
    // Only a newer version: the same one is what the person's own action already showed
    // (with its messages, which a second copy would wipe).
    // A forced swap takes the same version too: the answer to the person's own drag and
    // drop, or the board as it is after a failed one (the dragged post-it put back).
    const newer = Number(incoming.dataset.version) - Number(version());
    if (newer < 0 || (newer === 0 && !incoming.dataset.force)) return;
    // Someone began typing inside the region while the fragment was on its way (a poll's
    // fetch takes a moment): their text would go with the old field. Fetch again when
    // they leave it.
    if (typingInLive() && !incoming.dataset.force) {
      pending = true;
      return;
    }
    delete incoming.dataset.force;
    const focusedKey = live.contains(document.activeElement) ? keyOf(document.activeElement) : null;
    const open = [...live.querySelectorAll("details[open]")].map((d) => d.id || keyOf(d.querySelector("summary")));
    live.replaceWith(incoming);
    live = incoming;
    for (const key of open) {
      const details = (key && document.getElementById(key)) || byKey(key)?.closest("details");
      if (details) details.open = true;
    }
    window.htmx?.process(live);
    afterSwap();
    byKey(focusedKey)?.focus();
  }

  let lastFocus = live.dataset.focus;
  function afterSwap() {
    showOwnControls();
    syncTools();
    syncNotes();
    tick();
    if (view === "screen") fitScreen();
    if (live.dataset.focus !== lastFocus) {
      lastFocus = live.dataset.focus;
      announce(live.dataset.focusTitle);
    }
  }

  function announce(title) {
    const region = document.querySelector("[data-announce]");
    if (region) region.textContent = title ? `${region.dataset.prefix} ${title}` : "";
  }

  // Where focus goes after the moderator's own action (item 8 of the board's promise):
  // the agenda item that has the word, or the control or field they were in.
  function placeFocus() {
    if (!intent) return;
    const { action, key, fold } = intent;
    intent = null;
    // An action inside a fold of the board (the follow-up lane) leaves it open.
    const again = fold && document.getElementById(fold);
    if (again) again.open = true;
    if (live.dataset.state === "ended") return;
    const current = live.querySelector("[aria-current] [data-give]") ?? live.querySelector("[data-give]");
    let target = null;
    if (TO_CURRENT.has(action)) target = current;
    else if (action === "discussed") target = live.querySelector('[data-shortcut="next"]') ?? current;
    else if (key) target = byKey(key);
    if (!target && action === "remove") target = live.querySelector("#ideas-heading");
    if (!target && (action === "up" || action === "down")) target = current;
    if (!target && again) target = again.querySelector(":scope > summary");
    target?.focus();
  }

  // What waited while they wrote comes when they leave the field or close the disclosure.
  const catchUp = () => {
    if (pending && !typingInLive()) {
      pending = false;
      refresh();
    }
  };
  document.addEventListener("focusout", catchUp);
  document.addEventListener("toggle", catchUp, true); // "toggle" does not bubble

  // What was pressed, before htmx sends it (capture phase: this runs first).
  document.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    const form = event.target;
    let action = submitter?.name === "action" ? submitter.value : form.elements.action?.value;
    if (submitter?.name === "card") action = submitter.value.split(":")[0]; // "give:CODE"
    // A form inside a disclosure (editing or removing an idea) comes back to its summary.
    const disclosure = form.closest("details")?.querySelector(":scope > summary");
    intent = {
      action,
      key: keyOf(submitter) ?? keyOf(form) ?? keyOf(disclosure),
      inLive: live.contains(form),
      fold: form.closest("details[id]")?.id,
      form,
    };
  }, true);

  // htmx swaps (the moderator's own actions, a participant's idea) land here too.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "live" || event.detail.elt?.id === "live") {
      live = document.getElementById("live");
      window.htmx?.process(live);
      afterSwap();
      if (intent?.inLive) placeFocus();
    }
  });

  // Forms outside the live region reset after a successful save; focus goes back
  // to the field the person was writing in.
  document.body.addEventListener("board:saved", (event) => {
    const form = event.target.closest?.("form");
    if (!form || live.contains(form)) return;
    if (form.matches("[data-reset-on-save]")) form.reset();
    syncTools();
    const field = form.closest("#link-results") ? document.getElementById("link-search")
      : form.querySelector("textarea:not([hidden]), input[type=text]");
    field?.focus();
    intent = null;
  });

  // Shared fragments carry everyone's idea controls hidden; show this person's own.
  function showOwnControls() {
    for (const element of live.querySelectorAll("[data-author]")) {
      element.hidden = element.dataset.author !== root.dataset.user;
    }
  }

  // The forms outside the live region follow the post-it that has the word: the
  // hidden "topic" inputs, the "About: …" label, enabled only while one has it,
  // and gone once the meeting has ended.
  function syncTools() {
    const focus = live.dataset.focus || "";
    for (const input of document.querySelectorAll("[data-focus-input]")) input.value = focus;
    for (const label of document.querySelectorAll("[data-focus-label]")) {
      const title = live.dataset.focusTitle;
      label.textContent = title ? `${label.dataset.prefix ?? ""}${title}` : label.dataset.empty ?? "";
    }
    for (const set of document.querySelectorAll("[data-needs-focus]")) set.disabled = !focus;
    for (const tools of document.querySelectorAll("[data-board-tools]")) {
      tools.hidden = live.dataset.state === "ended";
    }
    syncPeople();
  }

  // The pickers of people (who said it, who owns a follow-up) list those marked present
  // first: the list comes with each board version (a <template> in #live) and is copied
  // in when it has changed, keeping what was chosen.
  function syncPeople() {
    const source = live.querySelector("#people-options");
    if (!source) return;
    for (const select of document.querySelectorAll("select[data-people]")) {
      if (select.dataset.people === source.dataset.key) continue;
      const chosen = select.value;
      const blank = select.querySelector('option[value=""]');
      select.replaceChildren(...(blank ? [blank] : []), source.content.cloneNode(true));
      select.value = chosen;
      if (select.value !== chosen) select.value = "";
      select.dataset.people = source.dataset.key;
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
    if (remaining <= 0 && !timer.classList.contains("timer--over")) {
      timer.classList.add("timer--over");
      timer.setAttribute("aria-label", timer.dataset.msgOver);
    }
  }
  setInterval(tick, 250);

  if (view === "board") setUpBoardKeys();
  if (view === "screen") {
    setUpFullScreen();
    fitScreen();
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(fitScreen, 100);
    });
  }

  function setUpBoardKeys() {
    const help = document.getElementById("help");
    document.querySelector("[data-help-open]")?.addEventListener("click", () => help.showModal());
    const press = (selector) => live.querySelector(selector)?.click();
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      if (target.matches("input, textarea, select") || event.ctrlKey || event.metaKey) return;
      if (help.open) return;
      const card = target.closest?.("[data-code]");
      if (event.altKey && card && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        card.querySelector(`[data-move="${event.key === "ArrowUp" ? "up" : "down"}"]`)?.click();
        return;
      }
      if (event.altKey) return;
      if ((event.key === "ArrowDown" || event.key === "ArrowUp") && card) {
        const gives = [...live.querySelectorAll("[data-give]")];
        const index = gives.indexOf(card.querySelector("[data-give]"));
        const next = gives[index + (event.key === "ArrowDown" ? 1 : -1)] ?? gives[0];
        if (next) {
          event.preventDefault();
          next.focus();
        }
        return;
      }
      switch (BOARD_KEYS[event.key]) {
        case "next":
          if (live.querySelector('[data-shortcut="next"]')) press('[data-shortcut="next"]');
          else press("[data-give]");
          break;
        case "previous":
          press('[data-shortcut="previous"]');
          break;
        case "timer":
          press('[data-shortcut="timer"]');
          break;
        case "more":
          press('[data-shortcut="more"]');
          break;
        case "less":
          press('[data-shortcut="less"]');
          break;
        case "idea":
          event.preventDefault();
          document.getElementById("idea-text")?.focus();
          break;
        case "help":
          help.showModal();
          break;
        default:
          return;
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
      const form = dragged.closest("form");
      const body = new FormData(form);
      body.set("action", "reorder");
      body.set("order", order);
      dragged = null;
      // getAttribute: form.action would be the buttons named "action".
      const failed = (status) => document.body.dispatchEvent(new CustomEvent("request:failed", { detail: { status } }));
      fetch(form.getAttribute("action"), {
        method: "POST", body, credentials: "same-origin", headers: { "HX-Request": "true" },
      }).then((response) => {
        if (!response.ok) throw response.status;
        return response.text();
      }).then((html) => swap(html, true)).catch((status) => {
        failed(typeof status === "number" ? status : 0);
        refresh(true); // the agenda as the server has it, not as it was dropped
      });
    });
  }

  // The projector shows the post-it with the word whole. Its fields start at the size the
  // server chose for their length (the density class) and shrink a step at a time until
  // none is cut off, down to a floor still readable from the room; a field that still does
  // not fit says so (a fade and "…"), never a line cut in half without a sign.
  function fitScreen() {
    const fields = live.querySelector(".spotlight__fields");
    if (!fields) return;
    const boxes = [...fields.children];
    fields.style.fontSize = "";
    const start = parseFloat(getComputedStyle(fields).fontSize);
    const floor = window.innerHeight / 64; // 17 px on a 1080-line screen, 11 on 720
    const cut = () => boxes.filter((box) => box.scrollHeight > box.clientHeight + 1);
    for (let size = start; cut().length && size > floor; ) {
      size = Math.max(floor, size * 0.92);
      fields.style.fontSize = `${size}px`;
    }
    const still = new Set(cut());
    for (const box of boxes) box.classList.toggle("is-cut", still.has(box));
  }

  // The projector fills the screen: a button and the F key (Fullscreen API).
  function setUpFullScreen() {
    const button = document.querySelector("[data-fullscreen]");
    if (!button) return;
    if (!document.fullscreenEnabled) {
      button.hidden = true;
      return;
    }
    const toggle = () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    };
    button.addEventListener("click", toggle);
    document.addEventListener("keydown", (event) => {
      if ((event.key === "f" || event.key === "F") && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        toggle();
      }
    });
    document.addEventListener("fullscreenchange", () => {
      const full = Boolean(document.fullscreenElement);
      button.textContent = full ? button.dataset.labelExit : button.dataset.labelEnter;
      document.body.classList.toggle("is-fullscreen", full);
    });
  }

  showOwnControls();
  syncTools();
  tick();
  const stream = followStream(root, (html) => {
    if (typingInLive()) pending = true;
    else swap(html);
  });
  followVersions(root, version, () => refresh(), () => !stream.healthy);
}
