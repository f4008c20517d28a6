// What the session view says about a state besides the board: which demo it is, the learning curve and
// the learner's last move and posteriors, in plain words for students.
"use strict";

const SHOWN_ARMS = 6;

// The post's three demos. A gradient session is the supervised one; a thompson session is the feedback
// one or the auto-scored one depending on how it is pressed (the engine records the same kind of session):
// the address says which (?demo=), else the log does (a button pressed: feedback; only Next: auto-scored).
const DEMOS = {
  supervised: { name: "Supervised demo",
    words: "each Next iteration is one gradient step on the loss: every point pulls on the boundary, harder the more wrong it is.",
    lead: "Press Next iteration, or Train to keep pressing." },
  feedback: { name: "Interactive-feedback demo",
    words: "you judge the picture with four buttons; after each, the learner tries a nudge to its weights and learns which nudges you reward.",
    lead: "How good is this boundary? Judge the picture:" },
  auto: { name: "Auto-scored demo",
    words: "the same learner as interactive feedback, but the score computed from the loss judges each nudge instead of a person.",
    lead: "Press Next iteration, or Train: the score judges each nudge." },
};

function demoOf(learner, asked, lastButton, head) {
  if (learner !== "thompson") return "supervised";
  if (asked === "feedback" || asked === "auto") return asked;
  return lastButton || head <= 1 ? "feedback" : "auto";
}

// "w2+" -> "nudged w2 up"
function nudgeWords(action) {
  if (!action) return "";
  const up = action.endsWith("+");
  return `nudged ${action.slice(0, -1)} ${up ? "up" : "down"}`;
}

// the learning curve beside the board, the shown step marked, and the same in words (its text alternative);
// returns what a click on it needs to pick a step
function drawCurve(s, frame) {
  const canvas = $("curve");
  const lines = [{ label: "loss", colour: "#a84300", values: s.loss }, { label: "accuracy", colour: "#1f5fa8", values: s.accuracy }];
  if (s.test_accuracy.some((v) => v !== null)) {
    lines.push({ label: "held-out loss", colour: "#a84300", values: s.test_loss, dash: [5, 4] },
      { label: "held-out accuracy", colour: "#1f5fa8", values: s.test_accuracy, dash: [5, 4] });
  }
  const curve = NNDraw.lines(canvas, lines, { step: frame.seq - 1, lo: 0, hi: 1 });
  const last = s.loss.length - 1;
  const words = `At step ${frame.seq - 1}: loss ${fmt.loss(frame.loss)}, accuracy ${fmt.accuracy(frame.accuracy)}` +
    (frame.test_accuracy === null ? "" : `, held-out accuracy ${fmt.test_accuracy(frame.test_accuracy)}`) +
    (last < 0 ? "." : `. Over steps 0 to ${last} the loss went from ${fmt.loss(s.loss[0])} to ${fmt.loss(s.loss[last])} ` +
      `and the accuracy from ${fmt.accuracy(s.accuracy[0])} to ${fmt.accuracy(s.accuracy[last])}. Click the chart to go to a step.`);
  canvas.setAttribute("aria-label", `Learning curve. ${words}`);
  $("curve-text").textContent = words;
  return curve;
}

// the learner at the shown step: its last move in words, and each nudge's posterior as a band
function paintLearner(frame) {
  const p = frame.event.payload;
  let words;
  if (frame.event.type === "session_started") words = "No nudge yet: the first press makes one.";
  else {
    const reward = p.reward === null || p.reward === undefined ? null : p.reward;
    const judged = p.button ? `You said ${p.button}` : reward === null ? "" : reward > 0 ? "The score rose" : "The score did not rise";
    const credit = reward === null ? "Nothing to credit yet (the first nudge)." :
      `${judged}, so the last nudge was credited ${reward.toFixed(2)}` + (p.undone ? " and undone (it made things worse)." : ".");
    words = `${credit} Then the learner ${nudgeWords(p.action)}.`;
  }
  $("r-action").textContent = words;
  // a network has two arms per parameter: like `show`, list the six likeliest to help
  const arms = frame.posteriors.length > SHOWN_ARMS
    ? [...frame.posteriors].sort((a, b) => b.mean - a.mean).slice(0, SHOWN_ARMS) : frame.posteriors;
  $("posteriors").caption.textContent = arms.length < frame.posteriors.length
    ? `Posteriors: ${frame.posteriors.length} nudges (arms); the ${SHOWN_ARMS} likeliest to help`
    : "Posterior of each nudge (arm): how likely it is to help";
  const body = $("posteriors").tBodies[0];
  body.replaceChildren(...arms.map((arm) => {
    const row = document.createElement("tr");
    row.innerHTML = `<td></td><td>${arm.mean.toFixed(2)}</td><td><div class="band"><span></span><i></i></div>` +
      `<span class="visually-hidden">${arm.low.toFixed(2)} to ${arm.high.toFixed(2)}</span></td>`;  // the band, in words
    row.cells[0].textContent = arm.action;
    const band = row.querySelector("span"), mark = row.querySelector("i");
    band.style.left = `${arm.low * 100}%`; band.style.width = `${(arm.high - arm.low) * 100}%`;
    mark.style.left = `${arm.mean * 100}%`;
    row.title = `${arm.low.toFixed(2)} to ${arm.high.toFixed(2)}`;
    return row;
  }));
}
