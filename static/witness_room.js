// The witnessing officer's panel in the room: identity check, recording, the script's steps
// in order, pause / resume / stop and seal. Every action goes to the server (which refuses a
// step out of order); the panel only shows where the witnessing stands.
import {$, readConfig, fill} from "./page.js";

const W = window.HEARINGS_WITNESS = readConfig("witness-config");
const T = W.text;
const clock = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
let state = null, busy = false;
// Answers can arrive out of order: the look the room's "resumed" announcement sets off
// can come back after the stop that followed it, and would show the recording running
// again. Each request takes a number; an answer older than the one shown is dropped.
let asked = 0, shown = 0;
function show(n, s) {
  if (n < shown) return render(state);  // keep what is shown (its buttons up to date)
  shown = n;
  render(s);
}
async function look() {
  const n = ++asked;
  show(n, await call(""));
}

function stepLabel(step, power) {
  return step === "power" ? fill(T.power, {power: W.powers[power] || power}) : T[step];
}

function render(s) {
  state = s;
  const rec = s.recording, live = rec && rec.status === "recording";
  $("w-identity-done").hidden = !s.identity;
  $("w-identity-form").hidden = !!s.identity;
  if (s.identity) $("w-identity-done").textContent = fill(T.checked, {name: s.identity.name, number: s.identity.masked_id_number});
  $("w-start-box").disabled = busy || !s.identity || !!rec;
  $("w-script").disabled = busy || !live;
  $("w-controls").disabled = busy || !rec;
  $("w-pause").disabled = !live;
  $("w-resume").disabled = !rec || rec.status !== "paused";

  // The script: every step of the plan, done ones with their time mark in the recording.
  const list = $("w-steps");
  list.replaceChildren();
  if (rec) {
    const plan = [["undertaking", null], ...rec.powers.map((p) => ["power", p]), ["agent_accepts", null], ["attestation", null]];
    plan.forEach(([step, power], i) => {
      const li = document.createElement("li");
      const done = s.done[i];
      const label = stepLabel(step, power);
      if (done) {
        li.textContent = `✓ ${label} · ${fill(T.at, {time: clock(done.elapsed_seconds)})}`;
        li.dataset.done = "true";
      } else {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = `${T.mark}：${label}`;
        b.dataset.step = step;
        if (power) b.dataset.power = power;
        const isNext = s.next && s.next.step === step && (s.next.power || null) === power;
        b.disabled = !isNext;
        b.onclick = () => act("steps", {step, power});
        li.append(b);
      }
      list.append(li);
    });
  }
  let message = "";
  if (rec) message = s.complete && live ? T.complete : T[rec.status] || "";
  else if (s.sealed) message = T.sealed;
  $("w-message").textContent = message;
  $("w-sealed").hidden = !s.sealed || !!rec;
  if (s.sealed) {
    const a = Object.assign(document.createElement("a"), {href: s.sealed.record_url, target: "_blank", rel: "noopener", textContent: T.record});
    $("w-sealed").replaceChildren(`${T.sealed} `, a);
  }
}

function showError(text) {
  $("w-error").textContent = text;
  $("w-error").hidden = !text;
}

async function call(path, body) {
  const response = await fetch(W.url + (path ? "/" + path : ""), {
    method: body === undefined ? "GET" : "POST",
    headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": W.csrf},
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({detail: response.statusText}));
  if (!response.ok) throw Object.assign(new Error(data.message || data.detail || data.title), {status: response.status});
  return data;
}

async function act(path, body) {
  if (busy || !state) return;
  busy = true;
  showError("");
  render(state);
  let fresh = null, error = null;
  const n = ++asked;
  try { fresh = await call(path, body); } catch (err) { error = err; }
  busy = false;
  if (fresh) return show(n, fresh);
  // Show the court's words first: where the script stands (after a fresh look).
  try { await look(); } catch { render(state); }
  const lead = error.status === 409 && state.next ? fill(T.next, {step: stepLabel(state.next.step, state.next.power)}) : T.failed;
  // The server's plain sentence (its ``message``); a network failure has none.
  const said = error.status ? error.message : "";
  showError(lead === T.failed ? said || T.failed : `${lead} ${said}`.trim());
}

$("w-check").onclick = () => {
  if (!$("w-face").checked) return showError(T.needFace);
  act("identity-check", {
    name: $("w-name").value.trim(), id_number: $("w-id-number").value.trim(),
    method: $("w-method").value, face_confirmed: true,
  });
};
document.querySelectorAll("input[name=w-grant]").forEach((radio) => {
  radio.onchange = () => {
    const special = document.querySelector("input[name=w-grant]:checked").value === "special";
    document.querySelectorAll("input[name=w-power]").forEach((c) => { c.disabled = !special; });
  };
});
$("w-start").onclick = () => {
  const special = document.querySelector("input[name=w-grant]:checked").value === "special";
  const powers = special ? [...document.querySelectorAll("input[name=w-power]:checked")].map((c) => c.value) : ["general"];
  if (!powers.length) return showError(T.needPowers);
  act("recording", {powers});
};
$("w-pause").onclick = () => {
  const reason = $("w-reason").value.trim();
  if (!reason) { showError(T.needReason); $("w-reason").focus(); return; }
  act("pause", {reason});
};
$("w-resume").onclick = () => act("resume", {});
$("w-stop").onclick = () => {
  const reason = $("w-reason").value.trim();
  if (!state.complete && !reason) { showError(T.needReason); $("w-reason").focus(); return; }
  act("stop", reason ? {reason} : {});
};
// The room announces every change of the recording (the recorder's own interruptions too).
window.addEventListener("hearings:recording", () => look().catch(() => {}));
look().catch((err) => showError(`${T.failed}（${err.message}）`));
