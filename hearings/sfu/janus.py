"""An asyncio client of Janus's HTTP API (https://janus.conf.meetecho.com/docs/rest.html):
sessions (create, keepalive, destroy), plugin handles (attach, detach), and the event
long-poll, one poller per session delivering each event to whoever waits for it (by
transaction, or by handle for events Janus sends unasked, such as ``webrtcup``).

Every request carries the ``api_secret``; every wait has a deadline; whatever goes wrong
(Janus refuses, a plugin refuses, Janus can't be reached or does not answer in time) comes
back as one exception, ``JanusError``, with Janus's error code and reason. Only the server
talks to Janus: its URL and secret never reach a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

#: Janus's own long-poll waits 30 s before it answers ``keepalive``: ours waits a little more.
LONG_POLL_SECONDS = 30.0
#: Janus drops a session silent for ``session_timeout`` (60 s by default): we speak sooner.
KEEPALIVE_SECONDS = 25.0
#: Events a handle keeps for a waiter that comes after them (``webrtcup`` before the wait).
KEPT_EVENTS = 64

#: Janus's core error code for a session it does not know (JANUS_ERROR_SESSION_NOT_FOUND).
SESSION_NOT_FOUND = 458

Event = dict[str, Any]


class JanusError(Exception):
    """Janus could not do what was asked: its error ``code`` (Janus's core codes such as 403
    or 458, or a plugin's, such as the VideoRoom's 433 for a wrong room secret; ``None`` when
    Janus's API gave no answer: unreachable, no answer in time, or not an answer at all) and
    its ``reason``."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason if code is None else f"{reason} (Janus error {code})")


def transaction() -> str:
    """A fresh transaction id (Janus echoes it on the answer and on the events it causes)."""
    return secrets.token_hex(8)


def plugin_error(answer: Event) -> JanusError | None:
    """The plugin's refusal carried in an answer or event (``error_code``), if any."""
    data = answer.get("plugindata", {}).get("data", {})
    if "error_code" in data or "error" in data:
        return JanusError(str(data.get("error", "plugin error")), data.get("error_code"))
    return None


class JanusClient:
    """One Janus server's HTTP API (``url``: e.g. ``http://127.0.0.1:8088/janus``)."""

    def __init__(
        self,
        url: str,
        api_secret: str | None,
        *,
        timeout: float = 10.0,
        keepalive: float = KEEPALIVE_SECONDS,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_secret = api_secret
        #: How long any one request, or the wait for its event, may take, seconds.
        self.timeout = timeout
        #: How often each session tells Janus it is still in use, seconds.
        self.keepalive = keepalive
        self._http: aiohttp.ClientSession | None = None
        self._sessions: set[JanusSession] = set()

    async def __aenter__(self) -> JanusClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        """The HTTP connection pool (made on first use, inside the running loop)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=0),  # one long-poll per session
            )
        return self._http

    async def post(self, path: str, body: Event) -> Event:
        """POST a request (``api_secret`` and a transaction added); Janus's answer, or
        ``JanusError`` for an ``error`` answer, no answer in time or no Janus at all."""
        body = {"transaction": transaction(), **body}
        if self.api_secret is not None:
            body["apisecret"] = self.api_secret
        answer = await self._exchange("POST", path, body, self.timeout)
        if answer.get("janus") == "error":
            error = answer.get("error", {})
            raise JanusError(str(error.get("reason", "error")), error.get("code"))
        return answer

    async def poll(self, session_id: int) -> list[Event]:
        """One long-poll for a session's events (empty when Janus had none to give)."""
        query: dict[str, str] = {"maxev": "16"}
        if self.api_secret is not None:
            query["apisecret"] = self.api_secret
        answer = await self._exchange(
            "GET", f"/{session_id}", None, LONG_POLL_SECONDS + self.timeout, query
        )
        events = [e for e in (answer if isinstance(answer, list) else [answer]) if e]
        for event in events:
            if event.get("janus") == "error":
                error = event.get("error", {})
                raise JanusError(str(error.get("reason", "error")), error.get("code"))
            if event.get("janus") == "timeout":  # Janus dropped the session: none spoke
                raise JanusError("Janus timed the session out", SESSION_NOT_FOUND)
        return [e for e in events if e.get("janus") != "keepalive"]

    async def _exchange(
        self,
        method: str,
        path: str,
        body: Event | None,
        wait: float,
        query: dict[str, str] | None = None,
    ) -> Any:
        # The reason says nothing of where Janus is (a room's refusal may carry it to a
        # browser); the log, for the operator, does.
        try:
            async with self.http.request(
                method,
                self.url + path,
                json=body,
                params=query,
                timeout=aiohttp.ClientTimeout(total=wait),
            ) as response:
                answer = await response.json(content_type=None)
                if not isinstance(answer, dict | list):  # e.g. a 404 for a session gone
                    raise JanusError(f"Janus answered HTTP {response.status} without an answer")
                return answer
        except TimeoutError:
            log.warning("janus at %s: no answer within %g s", self.url, wait)
            raise JanusError(f"Janus did not answer within {wait:g} s") from None
        except (aiohttp.ClientError, ValueError) as error:
            log.warning("janus at %s: %s", self.url, error)
            raise JanusError(f"Janus could not be reached ({type(error).__name__})") from None

    async def info(self) -> Event:
        """Janus's ``server_info`` (version, plugins, transports)."""
        return await self.post("", {"janus": "info"})

    async def create_session(self) -> JanusSession:
        """A new session, with its event poller and keepalive running."""
        answer = await self.post("", {"janus": "create"})
        session = JanusSession(self, int(answer["data"]["id"]))
        self._sessions.add(session)
        session.start()
        return session

    def forget(self, session: JanusSession) -> None:
        """Stop tracking a session that is over."""
        self._sessions.discard(session)

    async def close(self) -> None:
        """Destroy every session still open, then close the connection pool."""
        for session in list(self._sessions):
            with contextlib.suppress(JanusError):
                await session.destroy()
        if self._http is not None:
            await self._http.close()
            self._http = None


@dataclass
class _Waiter:
    """Someone waiting for an event: on a handle, those ``wanted`` accepts."""

    wanted: Callable[[Event], bool]
    future: asyncio.Future[Event]


class JanusSession:
    """A Janus session: its handles, its poller and its keepalive."""

    def __init__(self, client: JanusClient, session_id: int) -> None:
        self.client = client
        self.id = session_id
        self.handles: dict[int, JanusHandle] = {}
        #: Answers still to come by event, by transaction.
        self._pending: dict[str, asyncio.Future[Event]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        #: Why the session is over (Janus gone, session destroyed); None while it lives.
        self.ended: JanusError | None = None
        #: Called (on the loop) once, when the session ends, with why.
        self.on_end: Callable[[JanusError], None] | None = None

    def start(self) -> None:
        """Start the poller and the keepalive (in the running loop)."""
        self._tasks = [
            asyncio.create_task(self._poll(), name=f"janus-poll-{self.id}"),
            asyncio.create_task(self._keep_alive(), name=f"janus-keepalive-{self.id}"),
        ]

    @property
    def path(self) -> str:
        return f"/{self.id}"

    async def _poll(self) -> None:
        try:
            while True:
                for event in await self.client.poll(self.id):
                    self._deliver(event)
        except JanusError as error:
            self._end(error)
        except asyncio.CancelledError:
            self._end(JanusError("the Janus session was closed"))
            raise
        except Exception:  # an event we could not read: the session can't be trusted on
            log.exception("janus session %s: event long-poll failed", self.id)
            self._end(JanusError("Janus sent an event this client could not read"))

    def _deliver(self, event: Event) -> None:
        pending = self._pending.pop(str(event.get("transaction")), None)
        if pending is not None and not pending.done():
            pending.set_result(event)
            return
        handle = self.handles.get(int(event.get("sender") or 0))
        if handle is not None:
            handle.receive(event)
        else:
            log.debug("janus event for no handle: %s", event.get("janus"))

    def _end(self, error: JanusError) -> None:
        if self.ended is not None:
            return
        self.ended = error
        self.client.forget(self)
        for task in self._tasks:  # the poller and the keepalive end with the session
            if task is not asyncio.current_task():
                task.cancel()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for handle in list(self.handles.values()):
            handle.end(error)
        if self.on_end is not None:
            self.on_end(error)

    async def _keep_alive(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.client.keepalive)
                await self.keepalive()
        except JanusError as error:
            self._end(error)

    async def keepalive(self) -> None:
        """Tell Janus this session is still in use."""
        await self.client.post(self.path, {"janus": "keepalive"})

    async def send(self, path: str, body: Event, *, by_event: bool = False) -> Event:
        """Send a request; its answer, or with ``by_event`` the event that carries it when
        Janus only acknowledges (``ack``) at once. A plugin's refusal raises ``JanusError``."""
        if self.ended is not None:
            raise self.ended
        tid = transaction()
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[tid] = future
        try:
            answer = await self.client.post(path, {**body, "transaction": tid})
            if answer.get("janus") == "ack" and by_event:
                async with asyncio.timeout(self.client.timeout):
                    answer = await future
        except TimeoutError:
            raise JanusError(f"Janus sent no event within {self.client.timeout:g} s") from None
        finally:
            self._pending.pop(tid, None)
            if future.done() and not future.cancelled():
                future.exception()  # the session ended while the request was on its way
        error = plugin_error(answer)
        if error is not None:
            raise error
        return answer

    async def attach(self, plugin: str = "janus.plugin.videoroom") -> JanusHandle:
        """A new handle on ``plugin``."""
        answer = await self.send(self.path, {"janus": "attach", "plugin": plugin})
        handle = JanusHandle(self, int(answer["data"]["id"]))
        self.handles[handle.id] = handle
        return handle

    async def destroy(self) -> None:
        """Destroy the session (and its handles) at Janus, and stop its poller."""
        try:
            if self.ended is None:
                await self.client.post(self.path, {"janus": "destroy"})
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._end(JanusError("the Janus session was destroyed"))


class JanusHandle:
    """A handle on a plugin: messages to it, and the events Janus sends it unasked."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self._events: deque[Event] = deque(maxlen=KEPT_EVENTS)
        self._waiters: list[_Waiter] = []
        self.ended: JanusError | None = None

    @property
    def path(self) -> str:
        return f"{self.session.path}/{self.id}"

    async def message(self, body: Event, jsep: Event | None = None) -> Event:
        """A synchronous plugin request (create, destroy, listparticipants, moderate …):
        the plugin's answer (``plugindata.data``)."""
        request = {"janus": "message", "body": body, **({"jsep": jsep} if jsep else {})}
        answer = await self.session.send(self.path, request)
        return dict(answer.get("plugindata", {}).get("data", {}))

    async def request(self, body: Event, jsep: Event | None = None) -> Event:
        """An asynchronous plugin request (join, publish, start, leave …): the whole event
        that answers it (``plugindata.data`` and, when it negotiates, ``jsep``)."""
        request = {"janus": "message", "body": body, **({"jsep": jsep} if jsep else {})}
        return await self.session.send(self.path, request, by_event=True)

    def receive(self, event: Event) -> None:
        """An event Janus sent this handle: to the first waiter that wants it, else kept."""
        for waiter in self._waiters:
            if not waiter.future.done() and waiter.wanted(event):
                waiter.future.set_result(event)
                self._waiters.remove(waiter)
                return
        self._events.append(event)

    async def wait_for(self, wanted: Callable[[Event], bool], timeout: float) -> Event:
        """The first event ``wanted`` accepts (one that came already counts), within
        ``timeout`` seconds; ``JanusError`` if none comes or the session ends."""
        for event in self._events:
            if wanted(event):
                self._events.remove(event)
                return event
        if self.ended is not None:
            raise self.ended
        waiter = _Waiter(wanted, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter.future
        except TimeoutError:
            raise JanusError(f"Janus sent no such event within {timeout:g} s") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def end(self, error: JanusError) -> None:
        """The handle is gone (detached, or its session ended): every waiter learns why."""
        self.ended = error
        self.session.handles.pop(self.id, None)
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(error)
        self._waiters.clear()

    async def trickle(self, candidate: Event | None) -> None:
        """Hand Janus one of the client's ICE candidates (``None``: the client has no more)."""
        await self.session.send(
            self.path, {"janus": "trickle", "candidate": candidate or {"completed": True}}
        )

    async def detach(self) -> None:
        """Detach the handle (Janus hangs up its PeerConnection)."""
        if self.ended is not None or self.session.ended is not None:
            return
        try:
            await self.session.send(self.path, {"janus": "detach"})
        finally:
            self.end(JanusError("the handle was detached"))
