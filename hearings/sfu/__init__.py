"""The SFU media plane: Janus (its VideoRoom plugin) relays every participant's media when
``HEARINGS_JANUS_URL`` is set; unset, rooms stay a browser mesh. ``janus.py`` is the asyncio
client of Janus's HTTP API, ``videoroom.py`` the VideoRoom on top of it. The hub drives them
(``rooms/sfu_room.py``): this package imports no domain package."""
