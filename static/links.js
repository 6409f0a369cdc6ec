// The join links page: copy buttons, a confirmation before a link is reissued, and no
// second POST on reload (the tokens are shown this once).
import {readConfig} from "./page.js";

const cfg = readConfig("links-config");
// Reloading asks for the overview (GET), not the POST again.
if (cfg.overview) history.replaceState(null, "", cfg.overview);
document.querySelectorAll("form.reissue").forEach((f) => f.addEventListener("submit", (e) => {
  if (!confirm(cfg.confirmReissue)) e.preventDefault();
}));
document.querySelectorAll("button.copy").forEach((b) => b.addEventListener("click", async () => {
  const input = document.getElementById(b.dataset.target);
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand("copy");
  }
  b.textContent = "✓";
}));
