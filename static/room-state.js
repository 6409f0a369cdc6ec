// What the room client knows: the page's data, what the server said I may do, and who is
// here. One object every room module reads; room.js writes it as frames arrive.
import {readConfig} from "./page.js";

export const cfg = readConfig("room-config");
cfg.token = location.pathname.split("/").pop();
window.HEARINGS_ROOM = cfg;
export const T = cfg.text;

export const room = {
  /** My peer id, from ``welcome``. */
  me: null,
  /** What my token allows (``welcome``'s ``can``: publish, subscribe, moderate, record). */
  can: [],
  /** ``main``, or the caucus (背对背) sub-room of a mediation I am in. */
  subroom: "main",
  iceServers: cfg.iceServers || [],
  /** The local camera and microphone (a MediaStream, possibly without tracks). */
  local: null,
  /** The call is over (ended, left, refused): no reconnecting, no level meter. */
  finished: false,
  /** In the call: leaving the page asks first. */
  calling: false,
  /** Who else is in my (sub-)room now: their peer ids. */
  here: new Set(),
  names: new Map(),
  roles: new Map(),
};

/** Whether the server lets me do this (never a copy of its rule about roles). */
export const may = (what) => room.can.includes(what);
