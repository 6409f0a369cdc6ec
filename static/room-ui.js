// The room's page: the status line, the video tiles with their captions and the moderator's
// controls, the waiting list, the caucus (背对背) sub-rooms, the recording indicator and the
// microphone and camera buttons.
import {$} from "./page.js";
import {cfg, T, room, may} from "./room-state.js";
import {send} from "./room-signaling.js";

export const say = (text) => { $("status").textContent = text; };
const roleName = (role) => T.roles[role] || role;

/** The note under the self-test: what the missing devices mean for the call (or nothing). */
export function note(text) {
  $("media-note").textContent = text;
  $("media-note").hidden = !text;
}

/** The microphone and camera buttons say (and show) whether they are on or off. */
export function showToggle(kind) {
  const id = kind === "audio" ? "mic" : "cam";
  const tracks = room.local ? room.local.getTracks().filter((t) => t.kind === kind) : [];
  const on = tracks.some((t) => t.enabled);
  const b = $(id);
  b.disabled = !tracks.length;
  b.setAttribute("aria-pressed", String(on));
  b.textContent = T[id + (!tracks.length ? "None" : on ? "On" : "Off")];
  b.classList.toggle("off", !on);
}

export function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.onclick = onClick;
  return b;
}

/** A remote peer's video element, in its tile (made on first use). */
export function tile(peerId) {
  let fig = document.getElementById("t-" + peerId);
  if (!fig) {
    fig = document.createElement("figure");
    fig.id = "t-" + peerId;
    const video = Object.assign(document.createElement("video"),
      {id: "v-" + peerId, autoplay: true, playsInline: true});
    fig.append(video, document.createElement("figcaption"));
    caption(peerId, fig);
    if (may("moderate")) fig.append(controlsFor(peerId));
    $("videos").appendChild(fig);
  }
  return fig.querySelector("video");
}

export const removeTile = (peerId) => document.getElementById("t-" + peerId)?.remove();

/** A tile's caption: the name, and the role in the page's language. */
export function caption(peerId, fig = document.getElementById("t-" + peerId)) {
  if (!fig) return;
  const role = room.roles.has(peerId) ? "（" + roleName(room.roles.get(peerId)) + "）" : "";
  fig.querySelector("figcaption").textContent = (room.names.get(peerId) || "") + role;
}

function controlsFor(peerId) {
  const bar = document.createElement("div");
  bar.className = "row";
  bar.append(
    button(T.mute, () => send({type: "mute", peer_id: peerId, media: "audio"})),
    button(T.remove, () => send({type: "remove", peer_id: peerId})),
    button(T.dismiss, () => send({type: "dismiss", peer_id: peerId})),
  );
  if (cfg.kind === "mediation") {
    const caucus = "caucus-" + peerId.slice(0, 6).toLowerCase().replace(/[^a-z0-9]/g, "x");
    bar.append(button(T.caucus, () => send({type: "move", peer_id: peerId, subroom: caucus})));
    bar.append(button(T.back, () => send({type: "move", peer_id: peerId, subroom: "main"})));
  }
  return bar;
}

/** Where I am: the main room, or a caucus (背对背) sub-room of a mediation. */
export function whereAmI() {
  if (room.subroom === "main") return say(T.inRoom);
  if (may("moderate")) return say(T.modInCaucus);
  // Only a moderator moves anyone (the server refuses everyone else's "move"), and a
  // caucus is one party's: whoever is here with me came as the one who moderates.
  say(room.here.size ? T.caucusTalk : T.caucusWait);
}

/** The recording indicator: on, paused, interrupted (the recorder is coming back) or off. */
export function recording(state) {
  const shown = {started: "on", resumed: "on", paused: "paused", interrupted: "interrupted"}[state];
  const text = {on: T.recOn, paused: T.recPaused, interrupted: T.recInterrupted}[shown];
  $("recording").hidden = !text;
  $("recording").dataset.state = shown || "off";
  if (text) $("recording").textContent = text;
}

/** The moderator's view of the sub-rooms: who is elsewhere, bring them back, or go there. */
export function subrooms(peers) {
  const mine = peers.find((p) => p.peer_id === room.me);
  if (mine) room.subroom = mine.subroom;
  const list = $("subrooms");
  list.replaceChildren();
  for (const p of peers) {
    if (p.peer_id === room.me || p.subroom === room.subroom) continue;
    const li = document.createElement("li");
    li.dataset.subroom = p.subroom;
    li.append(`${p.subroom === "main" ? T.mainRoom : T.caucus} · ${roleName(p.role)} ${p.name} `);
    if (p.subroom !== "main") {
      li.append(button(T.back, () => send({type: "move", peer_id: p.peer_id, subroom: "main"})));
    }
    li.append(button(T.follow, () => send({type: "move", peer_id: room.me, subroom: p.subroom})));
    list.appendChild(li);
  }
  $("back-main").hidden = room.subroom === "main";
  $("rooms").hidden = !list.children.length && room.subroom === "main";
}

/** The waiting list shows only while someone is waiting. */
export const lobby = () => { $("lobby").hidden = !$("waiting").children.length; };

export function lobbyEntry(p) {
  if (document.getElementById("w-" + p.peer_id)) return;
  const li = document.createElement("li");
  li.id = "w-" + p.peer_id;
  const admit = button(T.admit, () => {
    send({type: "admit", peer_id: p.peer_id});
    li.remove();
    lobby();
  });
  li.append(`${p.name}（${roleName(p.role)}）${p.apart ? " · " + T.witness : ""} `, admit);
  $("waiting").appendChild(li);
  lobby();
}

export const leftLobby = (peerId) => {
  document.getElementById("w-" + peerId)?.remove();
  lobby();
};
