// The room client: pre-join self-test, signaling over WebSocket, one RTCPeerConnection per
// remote peer (mesh) with "perfect negotiation" (W3C WebRTC 1.0, §10.7), the moderator's
// controls, the recording indicator, and reconnection after a network drop.
"use strict";
(() => {
  const cfg = window.HEARINGS_ROOM, T = cfg.text;
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $("status").textContent = text; };
  const MODERATORS = ["presiding_judge", "judge", "clerk", "mediator", "liaison"];
  const pcs = new Map(), names = new Map();
  // Per connection: whether we are making an offer, and whether we ignored the remote's.
  const negotiation = new WeakMap();
  let ws, me, myRole, iceServers = cfg.iceServers || [], local, queue = Promise.resolve();
  let retry = 0, finished = false;

  const send = (frame) => ws && ws.readyState === 1 && ws.send(JSON.stringify(frame));
  const wsUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${cfg.sessionId}`;

  async function media() {
    if (!local) local = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 480}});
    return local;
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
    try {
      const stream = await media();
      $("preview").srcObject = stream;
      camera = mark("check-camera", stream.getVideoTracks().length > 0);
      mic = mark("check-mic", stream.getAudioTracks().length > 0);
      if (mic) listen(stream);
    } catch (err) {
      mark("check-camera", false, `${T.noDevice} (${err.name})`);
      mark("check-mic", false, "—");
    }
    const signal = mark("check-signal", await signalingReachable());
    const path = await networkPath();
    mark("check-network", path !== "none", T[path] || T.fail);
    const verdict = !camera || !mic || !signal || path === "none" ? "bad" : path === "local" ? "okay" : "good";
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
      const caption = document.createElement("figcaption");
      caption.textContent = names.get(peerId) || "";
      fig.append(video, caption);
      if (MODERATORS.includes(myRole)) fig.append(controlsFor(peerId));
      $("videos").appendChild(fig);
    }
    return fig.querySelector("video");
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

  function peer(peerId) {
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
    };
    // Adding the tracks makes the connection need negotiating: it offers (onnegotiationneeded),
    // unless it was made for an offer that has come in (then it answers that).
    local.getTracks().forEach((t) => pc.addTrack(t, local));
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
      pc = peer(from);
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

  function call(p) {
    if (p.name) names.set(p.peer_id, p.name);
    peer(p.peer_id);
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
    say(T.inRoom);
    $("controls").hidden = false;
    peers.forEach(call);
  }

  function lobbyEntry(p) {
    if (document.getElementById("w-" + p.peer_id)) return;
    const li = document.createElement("li");
    li.id = "w-" + p.peer_id;
    const admit = button(T.admit, () => { send({type: "admit", peer_id: p.peer_id}); li.remove(); });
    li.append(`${p.name}（${p.role}）${p.apart ? " · " + T.witness : ""} `, admit);
    $("waiting").appendChild(li);
    $("lobby").hidden = false;
  }

  async function handle(m) {
    switch (m.type) {
      case "welcome":
        me = m.peer_id; myRole = m.role; iceServers = m.ice_servers || iceServers; retry = 0;
        if (m.state === "admitted") inRoom(m.peers); else say(T.waiting);
        if (MODERATORS.includes(m.role)) $("end").hidden = false;
        break;
      case "admitted": inRoom(m.peers); break;
      case "waiting": lobbyEntry(m.peer); break;
      case "peer-joined": names.set(m.peer.peer_id, m.peer.name); break;
      case "offer": case "answer": await description(m.from, m.sdp); break;
      case "candidate": await candidate(m.from, m.candidate); break;
      case "peer-left": close(m.peer_id); document.getElementById("w-" + m.peer_id)?.remove(); break;
      case "mute":
        local.getTracks().filter((t) => t.kind === m.media).forEach((t) => { t.enabled = false; });
        say(T.muted);
        break;
      case "recording":
        recording(m.state);
        window.dispatchEvent(new CustomEvent("hearings:recording", {detail: m}));
        break;
      case "moved": [...pcs.keys()].forEach(close); inRoom(m.peers); break;
      case "dismissed": [...pcs.keys()].forEach(close); $("controls").hidden = true; say(T.lobby); break;
      case "ended": finished = true; [...pcs.keys()].forEach(close); say(T.ended); break;
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
        if (!finished) say(`${T.cannot} (${e.code})`);
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
    try { await media(); } catch (err) { say(`${T.noDevice} (${err.name})`); $("join").disabled = false; return; }
    $("self").srcObject = local;
    $("prejoin").hidden = true;
    $("videos").hidden = false;
    if ($("panels")) $("panels").hidden = false;
    connect();
  };
  const toggle = (kind, id) => () => {
    local.getTracks().filter((t) => t.kind === kind).forEach((t) => { t.enabled = !t.enabled; $(id).setAttribute("aria-pressed", String(t.enabled)); });
  };
  $("mic").onclick = toggle("audio", "mic");
  $("cam").onclick = toggle("video", "cam");
  $("leave").onclick = () => { finished = true; send({type: "leave"}); [...pcs.keys()].forEach(close); say(T.left); };
  $("end").onclick = () => send({type: "end"});
})();
