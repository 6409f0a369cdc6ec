// The room client's entry: it acts on the server's frames and wires the page's buttons. The
// parts: room-state.js (what the client knows), room-signaling.js (the WebSocket),
// room-media.js (camera, microphone, peer connections), room-ui.js (the page),
// room-selftest.js (the pre-join check). Without a camera or microphone one still joins:
// audio only, or watching and listening. What this participant may do (moderate …) comes
// from the server, in ``welcome``'s ``can``.
import {$} from "./page.js";
import {cfg, T, room, may} from "./room-state.js";
import {connect, send, welcomed} from "./room-signaling.js";
import {media, deviceError, setTracks, peer, close, closeAll, description, candidate} from "./room-media.js";
import {say, caption, whereAmI, recording, subrooms, lobbyEntry, leftLobby} from "./room-ui.js";
import {selfTest} from "./room-selftest.js";

function meet(p) {
  if (p.name) room.names.set(p.peer_id, p.name);
  room.roles.set(p.peer_id, p.role);
  room.here.add(p.peer_id);
  caption(p.peer_id);
}

// The later arrival offers: to every peer its ``admitted`` (or ``welcome``) lists.
function call(p) {
  meet(p);
  peer(p.peer_id);
}

function inRoom(peers) {
  room.here.clear();
  $("controls").hidden = false;
  peers.forEach(call);
  whereAmI();
}

function endCall(text) {
  room.finished = true;
  room.calling = false;
  closeAll();
  say(text);
}

async function handle(m) {
  switch (m.type) {
    case "welcome":
      room.me = m.peer_id;
      room.can = m.can || [];
      room.iceServers = m.ice_servers || room.iceServers;
      room.subroom = "main";
      welcomed();
      if (may("moderate")) { $("end").hidden = false; subrooms([]); }
      if (m.state === "admitted") inRoom(m.peers); else say(T.waiting);
      break;
    case "admitted": inRoom(m.peers); break;
    case "waiting": lobbyEntry(m.peer); break;
    case "peer-joined": meet(m.peer); if (room.subroom !== "main") whereAmI(); break;
    case "offer": case "answer": await description(m.from, m.sdp); break;
    case "candidate": await candidate(m.from, m.candidate); break;
    case "peer-left":
      close(m.peer_id);
      room.here.delete(m.peer_id);
      leftLobby(m.peer_id);
      if (room.subroom !== "main") whereAmI();
      break;
    case "mute":
      setTracks(m.media, false);
      say(T.muted);
      break;
    case "recording":
      recording(m.state);
      window.dispatchEvent(new CustomEvent("hearings:recording", {detail: m}));
      break;
    case "moved": closeAll(); room.subroom = m.subroom; inRoom(m.peers); break;
    case "subrooms": subrooms(m.peers); break;
    case "dismissed":
      closeAll();
      room.here.clear();
      room.subroom = "main";
      $("controls").hidden = true;
      say(T.lobby);
      break;
    case "ended": endCall(T.ended); break;
    case "error": console.warn("room:", m.error); break;
  }
}

const signaling = {
  handle,
  dropped: closeAll,
  finished: () => room.finished,
  final: (code) => endCall(`${T.cannot} (${code})`),
  reconnecting: () => say(T.reconnecting),
};

recording(cfg.recording);
$("selftest").onclick = selfTest;
$("consent").onchange = (e) => { $("join").disabled = !e.target.checked; };
$("join").onclick = async () => {
  $("join").disabled = true;
  try {
    await media();
  } catch (err) {
    say(deviceError(err));
    $("join").disabled = false;
    return;
  }
  $("self").srcObject = room.local;
  room.calling = true;
  // Mid-call, a link of the page (language, directory …) opens beside the call, not over it.
  document.querySelectorAll("a[href]:not([href^='#']):not([href^='tel:'])").forEach((a) => {
    a.target = "_blank";
    a.rel = "noopener";
  });
  $("prejoin").hidden = true;
  $("videos").hidden = false;
  if ($("panels")) $("panels").hidden = false;
  connect(signaling);
};
$("mic").onclick = () => setTracks("audio");
$("cam").onclick = () => setTracks("video");
$("leave").onclick = () => { send({type: "leave"}); endCall(T.left); };
// Ending closes the room for everyone and can't be undone: ask first.
$("end").onclick = () => { if (confirm(T.confirmEnd)) send({type: "end"}); };
$("back-main").onclick = () => send({type: "move", peer_id: room.me, subroom: "main"});
// Anything else that would leave the page mid-call (reload, back, signing out) asks first.
window.addEventListener("beforeunload", (e) => {
  if (room.calling && !room.finished) { e.preventDefault(); e.returnValue = ""; }
});
