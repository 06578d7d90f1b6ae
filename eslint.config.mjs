// typescript-eslint's recommended rules, plus the layering of lib/: each stage imports only from the stages
// below it (DESIGN.md: shared → backend → data → model → training → evaluation → notebook), and diagnostics (the
// benchmark) sits on top, since no stage of the flow needs it.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import tseslint from "typescript-eslint";

const STAGES = ["shared", "backend", "data", "model", "training", "evaluation", "notebook", "diagnostics"];

/** For lib/<stage>/: forbid relative imports of every stage above it. */
function layering(stage) {
  const above = STAGES.slice(STAGES.indexOf(stage) + 1);
  if (above.length === 0) return [];
  return [
    {
      files: [`lib/${stage}/**/*.ts`],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: above.map((s) => ({
              group: [`../${s}/*`, `../../${s}/*`, `../${s}`, `../../${s}`],
              message: `lib/${stage} sits below lib/${s}: nothing imports upward (DESIGN.md, the layout of lib/).`,
            })),
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "native/build/", "reports/", "runs/", ".jupyter/", ".scratch/", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { console: "readonly", process: "readonly" } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "@stylistic": stylistic },
    rules: {
      // Prettier wraps code at 140; strings and comments it leaves alone are held to the same width here.
      "@stylistic/max-len": ["error", { code: 140, ignoreUrls: true }],
      // A lazy require() is how optional pieces load only when used (tfjs-node, the wasm backend, the addon,
      // tslab inside a kernel); an import() would make every caller async.
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  {
    // CommonJS scripts (bin/, scripts/, bench/*.js) run under Node as they are.
    files: ["**/*.js", "bin/*"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        __filename: "readonly",
        console: "readonly",
        process: "readonly",
        performance: "readonly",
      },
    },
  },
  {
    // Tests read plotly's untyped figure JSON and the Jupyter page's globals, for which `any` is the honest type.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  ...STAGES.flatMap(layering),
);
