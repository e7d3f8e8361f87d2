// ESLint for the web app and its tests (make lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "test-results/"] },
  js.configs.recommended,
  {
    files: ["app/**/*.js"],
    languageOptions: { globals: globals.browser },
    rules: { "no-unused-vars": ["error", { argsIgnorePattern: "^_" }], eqeqeq: "error", "no-implicit-globals": "error" },
  },
  {
    // Node, and the page's own globals inside page.evaluate().
    files: ["tests/**/*.js", "*.config.js"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
