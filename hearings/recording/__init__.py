"""Recording a room server-side: the recorder peer (aiortc) that joins like any browser, the
registry that supervises this process's running recorders, the segment files they write,
and RFC 3161 timestamps of a sealed manifest. It knows no session kind: witnessing (and,
next, every session) starts and stops recordings through it."""
