// The post-it form: autosave while typing, a copy on this device, conflicts shown.
//
// Every keystroke is copied to localStorage at once, so a closed tab, a lost
// connection or an expired session loses nothing; the server gets the text a
// moment after typing pauses (and at least every few seconds while it goes on).

const SAVE_AFTER_PAUSE_MS = 1200;
const SAVE_AT_LEAST_EVERY_MS = 5000;
const RETRY_MS = 5000;

const form = document.querySelector("form[data-autosave-url]");
if (form && form.dataset.readOnly !== "true") {
  setUp(form);
}
if (form) {
  setUpCounters(form);
}

function setUpCounters(form) {
  for (const field of form.querySelectorAll("[data-limit]")) {
    const counter = form.querySelector(`[data-counter-for="${field.id}"]`);
    if (!counter) continue;
    const limit = Number(field.dataset.limit);
    const update = () => {
      // Nothing is cut: a paste over the limit stays whole and the counter says how much
      // is over (the server refuses it with the same message until it is shortened).
      const length = field.value.length;
      const over = length - limit;
      counter.textContent = (over > 0 ? form.dataset.msgOver : form.dataset.msgCount)
        .replace("%(count)s", length)
        .replace("%(over)s", over)
        .replace("%(limit)s", limit);
      counter.classList.toggle("counter--near", length > limit * 0.9 && over <= 0);
      counter.classList.toggle("counter--over", over > 0);
      if (over > 0) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    };
    field.addEventListener("input", update);
    update();
  }
}

function setUp(form) {
  const status = document.getElementById("save-status");
  const panel = document.getElementById("conflict-panel");
  const fields = [...form.querySelectorAll("[data-autosave-field]")];
  const topicInput = form.elements.topic;
  const versionInput = form.elements.version;
  const msg = form.dataset;
  let key = form.dataset.storageKey;
  let pauseTimer = null;
  let dirtySince = 0; // when the oldest text the server has not got was typed
  let inFlight = false;
  let again = false;
  let blocked = false; // a conflict waits for the person's choice

  // The strategy goals' checkboxes travel with the text: ticked codes, comma-separated.
  const goalBoxes = [...form.querySelectorAll("[data-autosave-goal]")];
  const text = () => {
    const typed = Object.fromEntries(fields.map((f) => [f.name, f.value]));
    if (goalBoxes.length) {
      typed.goals = goalBoxes.filter((box) => box.checked).map((box) => box.value).join(",");
    }
    return typed;
  };
  // Browsers send line breaks as CRLF and show them as LF: compare words, not endings.
  const lines = (value) => (value || "").replace(/\r\n?/g, "\n");
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  let saved = text();

  const say = (message, state) => {
    status.textContent = message;
    status.dataset.state = state;
  };

  const keepLocally = () => {
    localStorage.setItem(key, JSON.stringify({
      text: text(), version: Number(versionInput.value), topic: topicInput.value, at: Date.now(),
    }));
  };

  // Restore what this device typed but the server never got (also text typed
  // before the post-it existed, kept under the ":new" key).
  const newKey = key.replace(/:[^:]+$/, ":new");
  let stored = JSON.parse(localStorage.getItem(key) || "null");
  if (!stored && key !== newKey) {
    stored = JSON.parse(localStorage.getItem(newKey) || "null");
    if (stored) {
      localStorage.removeItem(newKey);
      stored.topic = topicInput.value;
      stored.version = 0; // unknown base: a differing server text shows as a conflict
      localStorage.setItem(key, JSON.stringify(stored));
    }
  }
  if (stored && !same(stored.text, saved)) {
    for (const field of fields) {
      if (field.name in stored.text) field.value = stored.text[field.name];
    }
    if (typeof stored.text.goals === "string") {
      const ticked = new Set(stored.text.goals.split(",").filter(Boolean));
      for (const box of goalBoxes) box.checked = ticked.has(box.value);
    }
    versionInput.value = stored.version;
    if (stored.topic) topicInput.value = stored.topic;
    say(msg.msgRestored, "restored");
    schedule(0);
  } else if (stored) {
    localStorage.removeItem(key);
  }

  form.addEventListener("input", (event) => {
    if (!event.target.matches("[data-autosave-field], [data-autosave-goal]")) return;
    keepLocally();
    say(msg.msgUnsaved, "dirty");
    schedule(SAVE_AFTER_PAUSE_MS);
  });

  // After a pause in typing, and at the latest SAVE_AT_LEAST_EVERY_MS after the
  // first keystroke the server has not got, however long the typing goes on.
  function schedule(delay) {
    clearTimeout(pauseTimer);
    const now = Date.now();
    if (!dirtySince) dirtySince = now;
    const latest = dirtySince + SAVE_AT_LEAST_EVERY_MS;
    pauseTimer = setTimeout(save, Math.max(0, Math.min(now + delay, latest) - now));
  }

  async function save() {
    if (blocked) return;
    if (inFlight) { again = true; return; }
    const sending = text();
    if (same(sending, saved) && topicInput.value) { localStorage.removeItem(key); return; }
    inFlight = true;
    dirtySince = 0;
    say(msg.msgSaving, "saving");
    const body = new FormData(form);
    body.delete("action");
    let response;
    try {
      response = await fetch(form.dataset.autosaveUrl, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }, redirect: "manual",
      });
    } catch {
      inFlight = false;
      say(msg.msgOffline, "offline");
      setTimeout(save, RETRY_MS);
      return;
    }
    inFlight = false;
    const json = (response.headers.get("content-type") || "").includes("json")
      ? await response.json() : null;
    if (response.ok && json) {
      adopt(json);
      saved = sending;
      if (same(text(), saved)) {
        localStorage.removeItem(key);
        say(json.message, "saved");
      } else {
        keepLocally();
      }
    } else if (response.status === 409 && json) {
      showConflict(json);
    } else if (response.status === 400 && json) {
      const errors = Object.values(json.errors || {}).flat().join(" ");
      say(`${msg.msgError} ${errors}`, "error");
    } else {
      // Redirected to sign-in (opaque redirect), or refused: the session is gone.
      say(msg.msgSignedOut, "signed-out");
      setTimeout(save, RETRY_MS * 2);
      return;
    }
    if (again) { again = false; schedule(0); }
  }

  function adopt(json) {
    const newTopic = !topicInput.value;
    topicInput.value = json.topic;
    versionInput.value = json.version;
    if (newTopic) {
      const oldKey = key;
      key = key.replace(/:new$/, `:${json.topic}`);
      localStorage.removeItem(oldKey);
      const url = new URL(window.location.href);
      url.searchParams.set("topic", json.topic);
      window.history.replaceState(null, "", url);
    }
  }

  function showConflict(json) {
    blocked = true;
    say(json.message, "conflict");
    panel.replaceChildren();
    const heading = document.createElement("h2");
    heading.textContent = msg.msgConflict;
    const list = document.createElement("dl");
    for (const field of fields) {
      const theirs = json.conflict[field.name] || "";
      if (lines(theirs) === lines(field.value)) continue;
      const label = form.querySelector(`label[for="${field.id}"]`);
      const dt = document.createElement("dt");
      dt.textContent = label ? label.textContent : field.name;
      const dd = document.createElement("dd");
      dd.className = "conflict__theirs";
      dd.textContent = theirs || "–";
      list.append(dt, dd);
    }
    const keep = button(msg.msgKeepMine, () => resolve(json, false));
    const take = button(msg.msgUseTheirs, () => resolve(json, true));
    panel.append(heading, list, keep, take);
    panel.hidden = false;
    panel.setAttribute("role", "alert");
    keep.focus();
  }

  function button(label, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  function resolve(json, takeTheirs) {
    if (takeTheirs) {
      for (const field of fields) {
        field.value = json.conflict[field.name] || "";
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
      saved = text();
    }
    versionInput.value = json.version;
    panel.hidden = true;
    blocked = false;
    keepLocally();
    schedule(0);
  }

  // Last chance when the page goes away: the local copy is already there, and
  // a beacon carries the latest text to the server.
  window.addEventListener("pagehide", () => {
    if (blocked || same(text(), saved)) return;
    const body = new FormData(form);
    body.delete("action");
    navigator.sendBeacon(form.dataset.autosaveUrl, body);
  });

  // A double click on submit sends once.
  form.addEventListener("submit", (event) => {
    clearTimeout(pauseTimer);
    const submitter = event.submitter;
    if (submitter && submitter.hasAttribute("data-once")) {
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "true";
    }
  });
}
