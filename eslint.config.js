// Lint for the pages' scripts (static/): ES modules run as they are, in the browser (no
// build). `npm ci && npx eslint static/` (.ci/run does it after the Python lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  {ignores: ["node_modules/", ".venv/"]},
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
  },
];
