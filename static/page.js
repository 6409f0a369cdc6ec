// What every page's script shares: finding an element, reading the page's data block (a
// <script type="application/json">: data, never run, as the policy allows no inline script)
// and filling the server's %(name)s placeholders.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** The JSON data block with this id, parsed. */
export const readConfig = (id) => JSON.parse($(id).textContent);

/** ``text`` with each ``%(key)s`` replaced by ``values[key]`` (gettext's named placeholders). */
export const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => values[k] ?? "");
