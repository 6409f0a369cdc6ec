// A printable record's "Print" button (a listener: the page runs no inline handler).
"use strict";
document.getElementById("print").addEventListener("click", () => window.print());
