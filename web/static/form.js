// The new-session form: the post's demos as presets, a field for every setting the server names, the
// request, and the server's refusal shown at the field it names.
"use strict";

// the post's three demos; "feedback" and "auto" differ only in which buttons the person then presses
const PRESETS = { supervised: { learner: "gradient", lr: 1 }, feedback: { learner: "thompson", step: 0.2 },
  auto: { learner: "thompson", step: 0.2 } };

function wireForm() {
  $("new-toggle").addEventListener("click", () => {
    const form = $("new-form"); form.hidden = !form.hidden; $("new-toggle").setAttribute("aria-expanded", String(!form.hidden));
  });
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      const preset = PRESETS[button.dataset.preset], form = $("new-form");
      for (const [k, v] of Object.entries(preset)) form.elements[k].value = String(v);
      form.elements.name.value = form.elements.name.value || button.dataset.preset;
    });
  }
  $("new-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target, body = {};
    for (const [key, fallback] of Object.entries(server.settings)) {
      const field = form.elements[key];
      if (field && field.value.trim() !== "") body[key] = settingValue(field.value.trim(), key === "seed" ? 0 : fallback);
    }
    if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
    try {
      const made = await post("/api/sessions", body);
      $("new-error").textContent = ""; form.hidden = true;
      await refreshSessions(); navigate(`/sessions/${made.id}`);
    } catch (err) {
      $("new-error").textContent = err.message;
      if (err.field && form.elements[err.field]) form.elements[err.field].focus();
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
// list to choose from where the server names the choices, else a plain field with the default filled in
const LABELS = { discount: "Discount", prior: "Prior", data: "Data set", features: "Features",
  hidden: "Hidden layers", activation: "Activation", test_share: "Held-out share" };
const HINTS = { hidden: "none; e.g. 8 or 8,4", test_share: "0 to 0.9" };
function addSettingFields() {
  const form = $("new-form"), before = form.elements.name.parentElement, choices = server.choices || {};
  for (const [key, fallback] of Object.entries(server.settings)) {
    if (form.elements[key]) continue;
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
