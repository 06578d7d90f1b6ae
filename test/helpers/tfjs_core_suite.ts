// Runs tfjs-core's own jasmine suite (the *_test.js specs its npm package ships in dist/) in this process
// against one backend, as tfjs-node and tfjs-backend-wasm run it against theirs: jasmine_util.setTestEnvs
// names the backend, and every describeWithFlags block runs on it.
//
// The specs are ES modules with extensionless imports, which Node cannot load as shipped, so this process
// loads tfjs-core from those dist modules compiled to CommonJS (cached under node_modules/.cache), and sends
// every `@tensorflow/tfjs-core` import there too: the specs, tfjs-backend-cpu and our backend then share one
// copy of tfjs-core. The target is ES5 because tfjs-backend-cpu's bundle is ES5: its MathBackendCPU calls the
// KernelBackend constructor as a function, which an ES2015 class forbids.
import * as fs from "node:fs";
import * as path from "node:path";
import Module from "node:module";

/** One spec left out of the run, by a substring of its full name, and why (tfjs-node's suite leaves it out too). */
export interface SuiteExclusion {
  name: string;
  reason: string;
}

export interface SuiteResult {
  passed: number;
  failed: Array<{ name: string; messages: string[] }>;
  /** Specs that did not run: left out by an exclusion, or pending (xit) in tfjs-core itself. */
  notRun: Array<{ name: string; status: string }>;
  /** Errors outside any spec (in a beforeAll, afterAll, or a spec file's top level). */
  suiteErrors: string[];
  durationMs: number;
}

type LoaderModule = { _compile(code: string, filename: string): void };
type ModuleInternals = {
  _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string;
  _extensions: Record<string, (module: LoaderModule, filename: string) => void>;
};

const coreRoot = path.dirname(require.resolve("@tensorflow/tfjs-core/package.json"));
const coreDist = path.join(coreRoot, "dist") + path.sep;
let loaderInstalled = false;

/** Compiled CommonJS of a tfjs-core dist module, from the cache or compiled now (and cached). */
function compiled(filename: string, cacheDir: string): string {
  const cached = path.join(cacheDir, path.relative(coreDist, filename));
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // Not cached yet.
  }
  const ts = require("typescript") as typeof import("typescript");
  // The inline source maps are most of each file and only slow the compiler down.
  const source = fs.readFileSync(filename, "utf8").replace(/^\/\/# sourceMappingURL=data:.*$/m, "");
  const code = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES5, downlevelIteration: true, lib: ["es2020"] },
  }).outputText;
  // Written under a unique name and renamed, so test processes running at once never read half a file.
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  const temp = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(temp, code);
  fs.renameSync(temp, cached);
  return code;
}

/** Makes this process load tfjs-core (and every import of it) from its compiled dist modules. Idempotent. */
function installCoreLoader(): void {
  if (loaderInstalled) return;
  if (Object.keys(require.cache).some((f) => f.startsWith(coreRoot + path.sep))) {
    throw new Error(
      "Expected tfjs-core not yet loaded when the suite's loader is installed but found it loaded: import nothing that imports it first",
    );
  }
  loaderInstalled = true;
  const tsVersion = (require("typescript/package.json") as { version: string }).version;
  const coreVersion = (require("@tensorflow/tfjs-core/package.json") as { version: string }).version;
  const cacheDir = path.join(coreRoot, "..", "..", ".cache", "mnist-lab", `tfjs-core-${coreVersion}-cjs-es5-ts${tsVersion}`);
  const internals = Module as unknown as ModuleInternals;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request, parent, ...rest) {
    if (request === "@tensorflow/tfjs-core") return path.join(coreDist, "index.js");
    return resolve.call(this, request, parent, ...rest);
  };
  const loadJs = internals._extensions[".js"];
  internals._extensions[".js"] = function (module, filename) {
    // The dist bundles (tf-core*.js) are CommonJS already; every other dist module is an ES module.
    if (filename.startsWith(coreDist) && !path.basename(filename).startsWith("tf-core")) {
      module._compile(compiled(filename, cacheDir), filename);
    } else {
      loadJs.call(this, module, filename);
    }
  };
}

function requireCore<T = unknown>(relative: string): T {
  return require(path.join(coreDist, relative)) as T;
}

interface JasmineSpecResult {
  fullName: string;
  status: string;
  failedExpectations: Array<{ message: string }>;
}
interface JasmineEnv {
  configure(options: Record<string, unknown>): void;
  addReporter(reporter: Record<string, (result: never) => void>): void;
  execute(): Promise<{ overallStatus: string; incompleteReason?: string }>;
}

/**
 * Runs every spec of tfjs-core's shipped suite on `backendName` (which `register` registers, after the loader
 * is in place: import nothing that imports tfjs-core before calling this) and reports each outcome.
 */
export async function runTfjsCoreSuite(options: {
  backendName: string;
  register: () => void | Promise<void>;
  exclusions: SuiteExclusion[];
}): Promise<SuiteResult> {
  installCoreLoader();
  let jasmineCore: { boot(core: unknown): { getEnv(): JasmineEnv } };
  try {
    jasmineCore = require("jasmine-core");
  } catch {
    throw new Error(
      "Expected jasmine-core (the runner tfjs-core's specs are written for, a devDependency) in node_modules but found none: run npm ci",
    );
  }
  const jasmine = jasmineCore.boot(jasmineCore);
  requireCore("index.js");
  // As tfjs-node's run_tests does: the specs use every gradient and the chained ops (x.add(y)).
  requireCore("register_all_gradients.js");
  requireCore("public/chained_ops/register_all_chained_ops.js");
  await options.register();
  requireCore<{ setTestEnvs(envs: unknown[]): void }>("jasmine_util.js").setTestEnvs([
    { name: `test-${options.backendName}`, backendName: options.backendName, flags: {}, isDataSync: true },
  ]);
  requireCore("tests.js");

  const result: SuiteResult = { passed: 0, failed: [], notRun: [], suiteErrors: [], durationMs: 0 };
  const env = jasmine.getEnv();
  env.configure({
    random: false,
    specFilter: (spec: { getFullName(): string }) => !options.exclusions.some((e) => spec.getFullName().includes(e.name)),
  });
  env.addReporter({
    specDone: (spec: JasmineSpecResult) => {
      if (spec.status === "passed") result.passed++;
      else if (spec.status === "failed")
        result.failed.push({ name: spec.fullName, messages: spec.failedExpectations.map((e) => e.message) });
      else result.notRun.push({ name: spec.fullName, status: spec.status });
    },
    suiteDone: (suite: JasmineSpecResult) => {
      for (const e of suite.failedExpectations) result.suiteErrors.push(`${suite.fullName}: ${e.message}`);
    },
  });
  // Specs print (tf.print, profiling tables, deprecation warnings); that is noise in this runner's output.
  const quiet = { log: console.log, info: console.info, warn: console.warn };
  console.log = console.info = console.warn = () => undefined;
  const start = Date.now();
  try {
    const done = await env.execute();
    if (done.incompleteReason) result.suiteErrors.push(`incomplete: ${done.incompleteReason}`);
  } finally {
    Object.assign(console, quiet);
  }
  result.durationMs = Date.now() - start;
  return result;
}
