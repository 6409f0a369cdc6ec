"""The SFU media plane: Janus (its VideoRoom plugin) relays every participant's media when
``HEARINGS_JANUS_URL`` is set; unset, rooms stay a browser mesh. ``janus.py`` is the asyncio
client of Janus's HTTP API, ``videoroom.py`` the VideoRoom on top of it. The hub does not use
them yet (issue 14): this package imports no domain package (it sits after ``rooms``)."""
