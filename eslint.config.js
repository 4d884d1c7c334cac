// ESLint for the page's own modules (vendored bundles and the built standalone file are not ours to lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["frontend/static/vendor/**", "frontend/static/dist/**", "node_modules/**", ".venv/**", "test-artifacts/**", "build/**"] },
  js.configs.recommended,
  {
    files: ["frontend/**/*.js", "frontend/**/*.mjs", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.worker },
    },
    rules: {
      // An unused argument often documents a callback's shape; unused variables are still errors.
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "eqeqeq": ["error", "smart"],
      "no-var": "error",
      "prefer-const": ["error", { destructuring: "all" }],
    },
  },
  {
    files: ["frontend/tests/**", "frontend/tools/**", "frontend/build/**", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
];
