// A printable record's "Print" button (a listener: the page runs no inline handler).
import {$} from "./page.js";

$("print").addEventListener("click", () => window.print());
