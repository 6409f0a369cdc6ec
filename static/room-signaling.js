// The signaling client: one WebSocket to /ws/rooms/<session>, the join frame first, frames
// handled one at a time (a candidate never overtakes its offer), and reconnection with
// back-off after a network drop.
import {cfg} from "./room-state.js";

let ws = null;
let retry = 0;
let queue = Promise.resolve();

/** Close codes after which the client does not come back: refused, or ended normally. */
const FINAL = [4401, 4403, 4408, 1000];

export const socketUrl = () =>
  `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${cfg.sessionId}`;

/** Send a frame, if the socket is open (a frame to a closed room is moot). */
export const send = (frame) => ws && ws.readyState === 1 && ws.send(JSON.stringify(frame));

/** The server answered ``welcome``: the next drop starts its back-off afresh. */
export const welcomed = () => { retry = 0; };

/**
 * Connect and keep connected. ``handle(frame)`` gets each frame in order; ``dropped()``
 * runs on every close; ``final(code)`` when the close is one not to come back from
 * (``finished()`` says whether the client has ended the call itself); ``reconnecting()``
 * before each new try.
 */
export function connect({handle, dropped, finished, final, reconnecting}) {
  ws = new WebSocket(socketUrl());
  ws.onopen = () => send({type: "join", token: cfg.token});
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    queue = queue.then(() => handle(m)).catch(console.error);
  };
  ws.onclose = (e) => {
    dropped();
    if (finished() || FINAL.includes(e.code)) {
      if (!finished()) final(e.code);
      return;
    }
    reconnecting();
    setTimeout(() => connect({handle, dropped, finished, final, reconnecting}),
      Math.min(1000 * 2 ** retry++, 15000));
  };
}

/** Whether the signaling server answers at all (the self-test's probe), within 5 s. */
export const signalingReachable = () => new Promise((resolve) => {
  const probe = new WebSocket(socketUrl());
  const timer = setTimeout(() => { probe.close(); resolve(false); }, 5000);
  probe.onopen = () => { clearTimeout(timer); probe.close(1000); resolve(true); };
  probe.onerror = () => { clearTimeout(timer); resolve(false); };
});
