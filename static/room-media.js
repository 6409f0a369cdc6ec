// Media and peer connections: the local camera and microphone (with less, down to nothing,
// when a device is missing), and one RTCPeerConnection per remote peer (mesh) with "perfect
// negotiation" (W3C WebRTC 1.0, §10.7).
import {T, room} from "./room-state.js";
import {send} from "./room-signaling.js";
import {note, showToggle, tile, removeTile} from "./room-ui.js";

const VIDEO = {width: 640, height: 480};
// A missing (or busy) device is no reason to stay out: try with less, down to nothing.
const MISSING = ["NotFoundError", "OverconstrainedError", "NotReadableError"];
const DENIED = ["NotAllowedError", "SecurityError"];

const pcs = new Map();
// Per connection: whether we are making an offer, and whether we ignored the remote's.
const negotiation = new WeakMap();

/** The local stream, asked for once: audio and video, or what there is of them. */
export async function media() {
  if (room.local) return room.local;
  let local = null;
  for (const constraints of [{audio: true, video: VIDEO}, {audio: true}, {video: VIDEO}]) {
    try {
      local = await navigator.mediaDevices.getUserMedia(constraints);
      break;
    } catch (err) {
      if (!MISSING.includes(err.name)) throw err;
    }
  }
  room.local = local || new MediaStream();
  const audio = room.local.getAudioTracks().length > 0;
  const video = room.local.getVideoTracks().length > 0;
  note(audio && video ? "" : audio ? T.noCamera : video ? T.noMic : T.noMedia);
  showToggle("audio");
  showToggle("video");
  return room.local;
}

/** Say why the devices can't be used (the long note); the short words for a status line. */
export function deviceError(err) {
  const denied = DENIED.includes(err.name);
  note(denied ? T.denied : `${T.noDevice} (${err.name})`);
  return denied ? T.deniedShort : `${T.noDevice} (${err.name})`;
}

/** Turn my own tracks of this kind on or off (``on`` omitted: the other way round). */
export function setTracks(kind, on) {
  room.local.getTracks().filter((t) => t.kind === kind).forEach((t) => {
    t.enabled = on === undefined ? !t.enabled : on;
  });
  showToggle(kind);
}

// Perfect negotiation: of any two peers the one with the smaller peer id is polite (it
// rolls back its own offer when offers cross); the other ignores the colliding offer.
const polite = (peerId) => room.me < peerId;
// A connection's DTLS fingerprint names it: a new one means the remote rebuilt its side.
const fingerprint = (sdp) => (/^a=fingerprint:(.+)$/m.exec(sdp || "") || [])[1];

/** The connection to a peer (made if there is none). ``offering``: made to send the first
 * offer (not for an offer that has come in). */
export function peer(peerId, offering = true) {
  if (pcs.has(peerId)) return pcs.get(peerId);
  const local = room.local;
  const pc = new RTCPeerConnection({iceServers: room.iceServers});
  const state = {makingOffer: false, ignoreOffer: false};
  negotiation.set(pc, state);
  pcs.set(peerId, pc);
  pc.onnegotiationneeded = async () => {
    try {
      state.makingOffer = true;
      await pc.setLocalDescription();
      if (pc.localDescription.type === "offer") {
        send({type: "offer", to: peerId, sdp: pc.localDescription.toJSON()});
      }
    } catch (err) {
      console.warn("room: offer", err);
    } finally {
      state.makingOffer = false;
    }
  };
  pc.onicecandidate = (e) => e.candidate && send({type: "candidate", to: peerId, candidate: e.candidate.toJSON()});
  pc.ontrack = (e) => { tile(peerId).srcObject = e.streams[0]; };
  pc.onconnectionstatechange = () => {
    // Rebuilt with a new connection and a fresh offer: not every peer can restart ICE.
    if (pc.connectionState === "failed" && pcs.get(peerId) === pc) { close(peerId); peer(peerId); }
    // A tile once connected, even without a track: someone without a camera or microphone
    // is still seen by name, and the moderator's controls for them are there.
    if (pc.connectionState === "connected" && pcs.get(peerId) === pc) tile(peerId);
  };
  // Adding the tracks makes the connection need negotiating: it offers (onnegotiationneeded),
  // unless it was made for an offer that has come in (then it answers that).
  local.getTracks().forEach((t) => pc.addTrack(t, local));
  // Without a camera (or microphone) of our own, still ask to receive the others'. Only
  // when offering: an answer's transceivers come from the offer.
  if (offering) {
    for (const kind of ["audio", "video"]) {
      if (!local.getTracks().some((t) => t.kind === kind)) pc.addTransceiver(kind, {direction: "recvonly"});
    }
  }
  return pc;
}

/** Close the connection to a peer and take its tile away. */
export function close(peerId) {
  pcs.get(peerId)?.close();
  pcs.delete(peerId);
  removeTile(peerId);
}

/** Close every connection (a move, a dismissal, a drop, the end). */
export const closeAll = () => [...pcs.keys()].forEach(close);

/** An offer or answer from a peer. */
export async function description(from, sdp) {
  let pc = pcs.get(from);
  if (pc && sdp.type === "offer" && (pc.signalingState === "closed" ||
      (pc.remoteDescription && fingerprint(pc.remoteDescription.sdp) !== fingerprint(sdp.sdp)))) {
    close(from);  // the remote's offer is for a new connection: rebuild ours too
    pc = undefined;
  }
  if (!pc) {
    if (sdp.type !== "offer") return;
    pc = peer(from, false);
  }
  const state = negotiation.get(pc);
  const collision = sdp.type === "offer" && (state.makingOffer || pc.signalingState !== "stable");
  state.ignoreOffer = !polite(from) && collision;
  if (state.ignoreOffer) return;
  try {
    await pc.setRemoteDescription(sdp);  // rolls our own offer back if it collided
    if (sdp.type === "offer") {
      await pc.setLocalDescription();
      send({type: "answer", to: from, sdp: pc.localDescription.toJSON()});
    }
  } catch (err) {
    console.warn("room: description", err);  // e.g. an answer to an offer since replaced
  }
}

/** An ICE candidate from a peer. */
export async function candidate(from, c) {
  const pc = pcs.get(from);
  if (!pc || !c) return;
  try {
    await pc.addIceCandidate(c);
  } catch (err) {
    if (!negotiation.get(pc).ignoreOffer) console.warn("room: candidate", err);
  }
}

/** A probe connection's ICE candidates: how this network reaches the others. */
export async function networkPath() {
  const pc = new RTCPeerConnection({iceServers: room.iceServers});
  pc.createDataChannel("probe");
  const kinds = new Set();
  pc.onicecandidate = (e) => { if (e.candidate) kinds.add(e.candidate.type); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    const done = () => pc.iceGatheringState === "complete" && resolve();
    pc.onicegatheringstatechange = done;
    setTimeout(resolve, 5000);
    done();
  });
  pc.close();
  return kinds.has("relay") ? "relay" : kinds.has("srflx") ? "direct" : kinds.size ? "local" : "none";
}
