// The room client: pre-join self-test, signaling over WebSocket, one RTCPeerConnection per
// remote peer (mesh) with "perfect negotiation" (W3C WebRTC 1.0, §10.7), the moderator's
// controls (caucus sub-rooms included), the recording indicator, and reconnection after a
// network drop. Without a camera or microphone one still joins: audio only, or watching and
// listening.
"use strict";
(() => {
  // The page's data (a JSON block: the content security policy runs no inline script).
  const cfg = window.HEARINGS_ROOM = JSON.parse(document.getElementById("room-config").textContent);
  cfg.token = location.pathname.split("/").pop();
  const T = cfg.text;
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $("status").textContent = text; };
  const MODERATORS = ["presiding_judge", "judge", "clerk", "mediator", "liaison"];
  const pcs = new Map(), names = new Map(), roles = new Map();
  const roleName = (role) => T.roles[role] || role;
  const moderates = (role) => MODERATORS.includes(role);
  // Per connection: whether we are making an offer, and whether we ignored the remote's.
  const negotiation = new WeakMap();
  let ws, me, myRole, iceServers = cfg.iceServers || [], local, queue = Promise.resolve();
  let retry = 0, finished = false, calling = false, mySubroom = "main";
  // Who is in my (sub-)room now, by peer id: their role.
  const here = new Map();

  const send = (frame) => ws && ws.readyState === 1 && ws.send(JSON.stringify(frame));
  const wsUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${cfg.sessionId}`;

  const VIDEO = {width: 640, height: 480};
  // A missing (or busy) device is no reason to stay out: try with less, down to nothing.
  const MISSING = ["NotFoundError", "OverconstrainedError", "NotReadableError"];
  const DENIED = ["NotAllowedError", "SecurityError"];

  async function media() {
    if (local) return local;
    for (const constraints of [{audio: true, video: VIDEO}, {audio: true}, {video: VIDEO}]) {
      try {
        local = await navigator.mediaDevices.getUserMedia(constraints);
        break;
      } catch (err) {
        if (!MISSING.includes(err.name)) throw err;
      }
    }
    local = local || new MediaStream();
    const audio = local.getAudioTracks().length > 0, video = local.getVideoTracks().length > 0;
    note(audio && video ? "" : audio ? T.noCamera : video ? T.noMic : T.noMedia);
    showToggle("audio");
    showToggle("video");
    return local;
  }

  function note(text) {
    $("media-note").textContent = text;
    $("media-note").hidden = !text;
  }

  function deviceError(err) {
    const denied = DENIED.includes(err.name);
    note(denied ? T.denied : `${T.noDevice} (${err.name})`);
    return denied ? T.deniedShort : `${T.noDevice} (${err.name})`;
  }

  // The microphone and camera buttons say (and show) whether they are on or off.
  function showToggle(kind) {
    const id = kind === "audio" ? "mic" : "cam";
    const tracks = local ? local.getTracks().filter((t) => t.kind === kind) : [];
    const on = tracks.some((t) => t.enabled);
    const b = $(id);
    b.disabled = !tracks.length;
    b.setAttribute("aria-pressed", String(on));
    b.textContent = T[id + (!tracks.length ? "None" : on ? "On" : "Off")];
    b.classList.toggle("off", !on);
  }

  // --- pre-join self-test -------------------------------------------------------------
  function mark(id, ok, text) {
    const span = $(id).querySelector("span");
    span.textContent = text || (ok ? T.ok : T.fail);
    span.style.color = ok ? "#2f855a" : "#9b1c1c";
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
      if (!finished) requestAnimationFrame(tick);
    };
    tick();
  }

  const signalingReachable = () => new Promise((resolve) => {
    const probe = new WebSocket(wsUrl());
    const timer = setTimeout(() => { probe.close(); resolve(false); }, 5000);
    probe.onopen = () => { clearTimeout(timer); probe.close(1000); resolve(true); };
    probe.onerror = () => { clearTimeout(timer); resolve(false); };
  });

  async function networkPath() {
    const pc = new RTCPeerConnection({iceServers});
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

  async function selfTest() {
    $("selftest").disabled = true;
    let camera = false, mic = false;
    let usable = true;
    try {
      const stream = await media();
      $("preview").srcObject = stream;
      camera = mark("check-camera", stream.getVideoTracks().length > 0, stream.getVideoTracks().length ? "" : T.missing);
      mic = mark("check-mic", stream.getAudioTracks().length > 0, stream.getAudioTracks().length ? "" : T.missing);
      if (mic) listen(stream);
    } catch (err) {
      usable = false;
      mark("check-camera", false, deviceError(err));
      mark("check-mic", false, "—");
    }
    const signal = mark("check-signal", await signalingReachable());
    const path = await networkPath();
    mark("check-network", path !== "none", T[path] || T.fail);
    const verdict = !usable || !signal || path === "none" ? "bad" : !camera || !mic ? "limited" : path === "local" ? "okay" : "good";
    $("verdict").textContent = T[verdict];
    $("verdict").dataset.result = verdict;
    $("selftest").disabled = false;
  }

  // --- the call -----------------------------------------------------------------------
  function tile(peerId) {
    let fig = document.getElementById("t-" + peerId);
    if (!fig) {
      fig = document.createElement("figure");
      fig.id = "t-" + peerId;
      fig.style.margin = "0";
      const video = Object.assign(document.createElement("video"), {id: "v-" + peerId, autoplay: true, playsInline: true});
      video.style.cssText = "width:100%;background:#111";
      fig.append(video, document.createElement("figcaption"));
      caption(peerId, fig);
      if (moderates(myRole)) fig.append(controlsFor(peerId));
      $("videos").appendChild(fig);
    }
    return fig.querySelector("video");
  }

  // A tile's caption: the name, and the role in the page's language.
  function caption(peerId, fig = document.getElementById("t-" + peerId)) {
    if (!fig) return;
    const role = roles.has(peerId) ? "（" + roleName(roles.get(peerId)) + "）" : "";
    fig.querySelector("figcaption").textContent = (names.get(peerId) || "") + role;
  }

  function button(text, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.onclick = onClick;
    return b;
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
      bar.append(button(T.caucus, () => send({type: "move", peer_id: peerId, subroom: "caucus-" + peerId.slice(0, 6).toLowerCase().replace(/[^a-z0-9]/g, "x")})));
      bar.append(button(T.back, () => send({type: "move", peer_id: peerId, subroom: "main"})));
    }
    return bar;
  }

  // Perfect negotiation: of any two peers the one with the smaller peer id is polite (it
  // rolls back its own offer when offers cross); the other ignores the colliding offer.
  const polite = (peerId) => me < peerId;
  // A connection's DTLS fingerprint names it: a new one means the remote rebuilt its side.
  const fingerprint = (sdp) => (/^a=fingerprint:(.+)$/m.exec(sdp || "") || [])[1];

  // ``offering``: made to send the first offer (not for an offer that has come in).
  function peer(peerId, offering = true) {
    if (pcs.has(peerId)) return pcs.get(peerId);
    const pc = new RTCPeerConnection({iceServers});
    const state = {makingOffer: false, ignoreOffer: false};
    negotiation.set(pc, state);
    pcs.set(peerId, pc);
    pc.onnegotiationneeded = async () => {
      try {
        state.makingOffer = true;
        await pc.setLocalDescription();
        if (pc.localDescription.type === "offer") send({type: "offer", to: peerId, sdp: pc.localDescription.toJSON()});
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

  function close(peerId) {
    pcs.get(peerId)?.close();
    pcs.delete(peerId);
    document.getElementById("t-" + peerId)?.remove();
  }

  async function description(from, sdp) {
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

  async function candidate(from, c) {
    const pc = pcs.get(from);
    if (!pc || !c) return;
    try {
      await pc.addIceCandidate(c);
    } catch (err) {
      if (!negotiation.get(pc).ignoreOffer) console.warn("room: candidate", err);
    }
  }

  function meet(p) {
    if (p.name) names.set(p.peer_id, p.name);
    roles.set(p.peer_id, p.role);
    here.set(p.peer_id, p.role);
    caption(p.peer_id);
  }

  function call(p) {
    meet(p);
    peer(p.peer_id);
  }

  // Where I am: the main room, or a caucus (背对背) sub-room of a mediation.
  function whereAmI() {
    if (mySubroom === "main") return say(T.inRoom);
    if (moderates(myRole)) return say(T.modInCaucus);
    say([...here.values()].some(moderates) ? T.caucusTalk : T.caucusWait);
  }

  function recording(state) {
    // started / resumed: on; paused (with its reason, logged); interrupted: the recorder is
    // coming back; stopped (or nothing): off.
    const shown = {started: "on", resumed: "on", paused: "paused", interrupted: "interrupted"}[state];
    const text = {on: T.recOn, paused: T.recPaused, interrupted: T.recInterrupted}[shown];
    $("recording").hidden = !text;
    $("recording").dataset.state = shown || "off";
    if (text) $("recording").textContent = text;
  }

  function inRoom(peers) {
    here.clear();
    $("controls").hidden = false;
    peers.forEach(call);
    whereAmI();
  }

  // The moderator's view of the sub-rooms: who is elsewhere, bring them back, or go there.
  function subrooms(peers) {
    const mine = peers.find((p) => p.peer_id === me);
    if (mine) mySubroom = mine.subroom;
    const list = $("subrooms");
    list.replaceChildren();
    for (const p of peers) {
      if (p.peer_id === me || p.subroom === mySubroom) continue;
      const li = document.createElement("li");
      li.dataset.subroom = p.subroom;
      li.append(`${p.subroom === "main" ? T.mainRoom : T.caucus} · ${roleName(p.role)} ${p.name} `);
      if (p.subroom !== "main") li.append(button(T.back, () => send({type: "move", peer_id: p.peer_id, subroom: "main"})));
      li.append(button(T.follow, () => send({type: "move", peer_id: me, subroom: p.subroom})));
      list.appendChild(li);
    }
    $("back-main").hidden = mySubroom === "main";
    $("rooms").hidden = !list.children.length && mySubroom === "main";
  }

  function lobbyEntry(p) {
    if (document.getElementById("w-" + p.peer_id)) return;
    const li = document.createElement("li");
    li.id = "w-" + p.peer_id;
    const admit = button(T.admit, () => { send({type: "admit", peer_id: p.peer_id}); li.remove(); lobby(); });
    li.append(`${p.name}（${roleName(p.role)}）${p.apart ? " · " + T.witness : ""} `, admit);
    $("waiting").appendChild(li);
    lobby();
  }

  // The waiting list shows only while someone is waiting.
  const lobby = () => { $("lobby").hidden = !$("waiting").children.length; };

  function endCall(text) {
    finished = true;
    calling = false;
    [...pcs.keys()].forEach(close);
    say(text);
  }

  async function handle(m) {
    switch (m.type) {
      case "welcome":
        me = m.peer_id; myRole = m.role; iceServers = m.ice_servers || iceServers; retry = 0;
        mySubroom = "main";
        if (moderates(m.role)) { $("end").hidden = false; subrooms([]); }
        if (m.state === "admitted") inRoom(m.peers); else say(T.waiting);
        break;
      case "admitted": inRoom(m.peers); break;
      case "waiting": lobbyEntry(m.peer); break;
      case "peer-joined": meet(m.peer); if (mySubroom !== "main") whereAmI(); break;
      case "offer": case "answer": await description(m.from, m.sdp); break;
      case "candidate": await candidate(m.from, m.candidate); break;
      case "peer-left":
        close(m.peer_id);
        here.delete(m.peer_id);
        document.getElementById("w-" + m.peer_id)?.remove();
        lobby();
        if (mySubroom !== "main") whereAmI();
        break;
      case "mute":
        local.getTracks().filter((t) => t.kind === m.media).forEach((t) => { t.enabled = false; });
        showToggle(m.media);
        say(T.muted);
        break;
      case "recording":
        recording(m.state);
        window.dispatchEvent(new CustomEvent("hearings:recording", {detail: m}));
        break;
      case "moved": [...pcs.keys()].forEach(close); mySubroom = m.subroom; inRoom(m.peers); break;
      case "subrooms": subrooms(m.peers); break;
      case "dismissed": [...pcs.keys()].forEach(close); here.clear(); mySubroom = "main"; $("controls").hidden = true; say(T.lobby); break;
      case "ended": endCall(T.ended); break;
      case "error": console.warn("room:", m.error); break;
    }
  }

  function connect() {
    ws = new WebSocket(wsUrl());
    ws.onopen = () => send({type: "join", token: cfg.token});
    // One message at a time, so a candidate never overtakes its offer.
    ws.onmessage = (e) => { const m = JSON.parse(e.data); queue = queue.then(() => handle(m)).catch(console.error); };
    ws.onclose = (e) => {
      [...pcs.keys()].forEach(close);
      if (finished || [4401, 4403, 4408, 1000].includes(e.code)) {
        if (!finished) endCall(`${T.cannot} (${e.code})`);
        return;
      }
      say(T.reconnecting);
      setTimeout(connect, Math.min(1000 * 2 ** retry++, 15000));
    };
  }

  recording(cfg.recording);
  $("selftest").onclick = selfTest;
  $("consent").onchange = (e) => { $("join").disabled = !e.target.checked; };
  $("join").onclick = async () => {
    $("join").disabled = true;
    try { await media(); } catch (err) { say(deviceError(err)); $("join").disabled = false; return; }
    $("self").srcObject = local;
    calling = true;
    // Mid-call, a link of the page (language, directory …) opens beside the call, not over it.
    document.querySelectorAll("a[href]:not([href^='#']):not([href^='tel:'])").forEach((a) => {
      a.target = "_blank";
      a.rel = "noopener";
    });
    $("prejoin").hidden = true;
    $("videos").hidden = false;
    if ($("panels")) $("panels").hidden = false;
    connect();
  };
  const toggle = (kind) => () => {
    local.getTracks().filter((t) => t.kind === kind).forEach((t) => { t.enabled = !t.enabled; });
    showToggle(kind);
  };
  $("mic").onclick = toggle("audio");
  $("cam").onclick = toggle("video");
  $("leave").onclick = () => { send({type: "leave"}); endCall(T.left); };
  // Ending closes the room for everyone and can't be undone: ask first.
  $("end").onclick = () => { if (confirm(T.confirmEnd)) send({type: "end"}); };
  $("back-main").onclick = () => send({type: "move", peer_id: me, subroom: "main"});
  // Anything else that would leave the page mid-call (reload, back, signing out) asks first.
  window.addEventListener("beforeunload", (e) => {
    if (calling && !finished) { e.preventDefault(); e.returnValue = ""; }
  });
})();
