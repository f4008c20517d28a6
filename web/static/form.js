// The new-session form: the post's demos as presets, a field for every setting the server names (the data
// sets as pictures), the request, and the server's refusal shown at the field it names.
"use strict";

// The post's three demos: every setting at its default (what the post used) but the learner. "feedback"
// and "auto" are the same kind of session; the page leads with the buttons or with Next (session.js).
const PRESETS = { supervised: { learner: "gradient", name: "supervised" },
  feedback: { learner: "thompson", name: "feedback" }, auto: { learner: "thompson", name: "auto-scored" } };
const PRESET_WORDS = { supervised: "Supervised: a gradient step on each Next.",
  feedback: "Interactive feedback: you rate the boundary with four buttons.",
  auto: "Auto-scored: the score from the loss rates each nudge." };

// `base`, or the first of base-2, base-3, ... that no session listed has
function freeName(base) {
  const taken = new Set(sessions.map((s) => s.name));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

// every field back to the server's default, then the preset's learner and a free name
function applyPreset(key) {
  const form = $("new-form"), preset = PRESETS[key];
  for (const [setting, fallback] of Object.entries(server.settings)) {
    const field = form.elements[setting];
    if (!field) continue;
    const text = Array.isArray(fallback) ? fallback.join(", ") : fallback === null ? "" : String(fallback);
    if (field instanceof RadioNodeList) { for (const radio of field) radio.checked = radio.value === text; } else field.value = text;
  }
  form.elements.seed.value = "";
  form.elements.learner.value = preset.learner;
  form.elements.name.value = freeName(preset.name);
  form.dataset.demo = key;
  $("preset-note").textContent = `${PRESET_WORDS[key]} Every setting is reset to the post's; change any, then Start.`;
}

// the body the server takes for the form's fields: only what is filled in
function formBody(form) {
  const body = {};
  for (const [key, fallback] of Object.entries(server.settings)) {
    const field = form.elements[key];
    if (field && field.value.trim() !== "") body[key] = settingValue(field.value.trim(), key === "seed" ? 0 : fallback);
  }
  if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
  return body;
}

async function startSession(body, demo) {
  const made = await post("/api/sessions", body);
  await refreshSessions();
  navigate(`/sessions/${made.id}${demo && body.learner === "thompson" ? `?demo=${demo}` : ""}`);
  return made;
}

// the home page's one-click demos
async function startDemo(key) {
  $("home-error").textContent = "";
  try {
    await startSession({ learner: PRESETS[key].learner, name: freeName(PRESETS[key].name) }, key);
  } catch (e) { $("home-error").textContent = e.message; }
}

function wireForm() {
  $("new-toggle").addEventListener("click", () => {
    const form = $("new-form"); form.hidden = !form.hidden; $("new-toggle").setAttribute("aria-expanded", String(!form.hidden));
  });
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => applyPreset(button.dataset.preset));
  }
  $("new-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    try {
      await startSession(formBody(form), form.dataset.demo);
      $("new-error").textContent = ""; form.hidden = true; $("new-toggle").setAttribute("aria-expanded", "false");
      delete form.dataset.demo;
    } catch (err) {
      $("new-error").textContent = err.message;
      const field = err.field && form.elements[err.field];
      if (field) (field instanceof RadioNodeList ? field[0] : field).focus();
    }
  });
}

// a setting's value as the kind of its default: numbers, text, or a comma-separated list
function settingValue(text, fallback) {
  if (typeof fallback === "number") return Number(text);
  if (Array.isArray(fallback)) return text.split(",").map((part) => part.trim()).filter(Boolean)
    .map((part) => (part !== "" && !Number.isNaN(Number(part)) ? Number(part) : part));
  if (typeof fallback === "boolean") return text === "true";
  return text;
}

// settings the form does not spell out (the engine may gain some) get a field each, from the server: a
// list to choose from where the server names the choices, else a plain field with the default filled in;
// the data sets the page has a picture of are a row of pictures to pick from
const LABELS = { discount: "Discount", prior: "Prior", data: "Data set", features: "Features",
  hidden: "Hidden layers", activation: "Activation", test_share: "Held-out share" };
const HINTS = { hidden: "none; e.g. 8 or 8,4", test_share: "0 to 0.9" };
const PICTURED = new Set(["linear", "xor", "circle", "gauss", "spiral", "pg-circle", "pg-xor", "pg-gauss", "pg-spiral"]);
function addSettingFields() {
  const form = $("new-form"), before = form.elements.name.parentElement, choices = server.choices || {};
  for (const [key, fallback] of Object.entries(server.settings)) {
    if (form.elements[key]) continue;
    if (key === "data" && choices.data) { form.querySelector(".settings").before(dataChoice(choices.data, fallback)); continue; }
    const label = document.createElement("label");
    let input;
    if (choices[key] && !Array.isArray(fallback)) {
      input = document.createElement("select");
      input.append(...choices[key].map((choice) => new Option(choice, choice, choice === fallback, choice === fallback)));
    } else {
      input = document.createElement("input");
      input.type = typeof fallback === "number" ? "number" : "text";
      if (input.type === "number") input.step = "any";
      input.value = Array.isArray(fallback) ? fallback.join(", ") : fallback === null ? "" : String(fallback);
      const hint = choices[key] ? `comma-separated, from ${choices[key].join(", ")}` : HINTS[key];
      if (hint) { input.placeholder = hint; input.title = hint; }
    }
    input.name = key;
    label.append(LABELS[key] || key, input);
    before.before(label);
  }
}

function dataChoice(kinds, fallback) {
  const group = document.createElement("fieldset"), legend = document.createElement("legend");
  group.className = "data-choice";
  legend.textContent = "Data set";
  group.append(legend, ...kinds.map((kind) => {
    const label = document.createElement("label"), radio = document.createElement("input");
    radio.type = "radio"; radio.name = "data"; radio.value = kind; radio.checked = kind === fallback;
    if (PICTURED.has(kind)) {
      const picture = document.createElement("img");
      picture.src = `/static/data-${kind}.png`; picture.alt = ""; picture.width = 64; picture.height = 64;
      label.append(picture);
    }
    label.append(radio, kind);
    return label;
  }));
  return group;
}
