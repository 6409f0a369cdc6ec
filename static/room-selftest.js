// The pre-join self-test: camera, microphone (with a level meter), the signaling server and
// the network path, and a verdict in the court's words.
import {$} from "./page.js";
import {T, room} from "./room-state.js";
import {signalingReachable} from "./room-signaling.js";
import {media, deviceError, networkPath} from "./room-media.js";

function mark(id, ok, text) {
  const span = $(id).querySelector("span");
  span.textContent = text || (ok ? T.ok : T.fail);
  span.className = ok ? "pass" : "fail";
  return ok;
}

function listen(stream) {
  const ctx = new AudioContext(), analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const tick = () => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    $("level").value = peak;
    if (!room.finished) requestAnimationFrame(tick);
  };
  tick();
}

export async function selfTest() {
  $("selftest").disabled = true;
  let camera = false, mic = false;
  let usable = true;
  try {
    const stream = await media();
    $("preview").srcObject = stream;
    const video = stream.getVideoTracks().length > 0, audio = stream.getAudioTracks().length > 0;
    camera = mark("check-camera", video, video ? "" : T.missing);
    mic = mark("check-mic", audio, audio ? "" : T.missing);
    if (mic) listen(stream);
  } catch (err) {
    usable = false;
    mark("check-camera", false, deviceError(err));
    mark("check-mic", false, "—");
  }
  const signal = mark("check-signal", await signalingReachable());
  const path = await networkPath();
  mark("check-network", path !== "none", T[path] || T.fail);
  const verdict = !usable || !signal || path === "none" ? "bad"
    : !camera || !mic ? "limited" : path === "local" ? "okay" : "good";
  $("verdict").textContent = T[verdict];
  $("verdict").dataset.result = verdict;
  $("selftest").disabled = false;
}
