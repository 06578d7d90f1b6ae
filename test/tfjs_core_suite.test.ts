// tfjs-core's own suite (every *_test.js spec of @tensorflow/tfjs-core's npm package) on the onednn backend:
// the conformance bar tfjs-node and tfjs-backend-wasm hold themselves to. No import here may load tfjs-core
// before the suite's loader does (see helpers/tfjs_core_suite.ts), so mnist-lab is required inside the test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runTfjsCoreSuite, type SuiteExclusion } from "./helpers/tfjs_core_suite";

/**
 * The one list of specs left out, each with its reason. Only behaviour tfjs-node's own run of this suite
 * also leaves out may go here (its src/run_tests.ts IGNORE_LIST); today every spec runs and passes.
 */
const EXCLUSIONS: SuiteExclusion[] = [];

/**
 * Kernels whose JS fallbacks this test watches: the conv, matmul, pooling, batch-norm and softmax kernels the
 * report's model runs (the suite adds NCHW, broadcast biases, PReLU). Other native kernels decline inputs they
 * do not compute (int32, complex and string tensors, mostly) and tfjs-cpu runs those.
 */
const WATCHED = [
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
  "_FusedMatMul",
  "MaxPool",
  "MaxPoolGrad",
  "FusedBatchNorm",
  "Softmax",
];

/** The one list of watched kernels that fall back to JS somewhere in the suite, and why each must. */
const EXPECTED_FALLBACKS: Record<string, string> = {
  Conv2DBackpropInput:
    "the conv2dTranspose spec 'input=8x8x8,output=4x4x8,f=8,s=1,inDepth=8,p=same vec4' passes a dy whose shape " +
    "does not follow from the geometry: oneDNN cannot express it and TensorFlow rejects it (tfjs-node excludes the spec); " +
    "tfjs-cpu computes it",
};

test("OnednnBackend passes every spec of tfjs-core's own suite, its model kernels falling back to JS only where listed", async (t) => {
  let counts: () => { fallback: Record<string, number>; native: Record<string, number> } = () => ({ fallback: {}, native: {} });
  const result = await runTfjsCoreSuite({
    backendName: "onednn",
    exclusions: EXCLUSIONS,
    register: async () => {
      const lab = require("mnist-lab") as typeof import("mnist-lab");
      await lab.initBackend("onednn");
      lab.resetKernelCallCounts();
      counts = lab.getKernelCallCounts;
    },
  });
  const seconds = (result.durationMs / 1000).toFixed(1);
  const failures = result.failed.map((f) => `- ${f.name}: ${f.messages.join(" | ").slice(0, 500)}`);
  assert.deepEqual(result.suiteErrors, [], "errors outside specs");
  assert.equal(
    result.failed.length,
    0,
    `${result.failed.length} of ${result.passed + result.failed.length} specs failed on onednn (${seconds} s):\n${failures.join("\n")}`,
  );
  assert.ok(result.passed > 4000, `Expected the whole suite (over 4,000 specs) to run but found ${result.passed} passing`);
  const { fallback, native } = counts();
  assert.deepEqual(
    WATCHED.filter((k) => fallback[k]),
    Object.keys(EXPECTED_FALLBACKS),
    `watched kernels that fell back to JS in the suite: ${JSON.stringify(fallback)}`,
  );
  for (const k of WATCHED) assert.ok(native[k] > 0, `Expected the suite to run ${k} natively but found no native call`);
  t.diagnostic(
    `${result.passed} specs passed on onednn in ${seconds} s; not run: ${result.notRun.length} (pending in tfjs-core or excluded)`,
  );
});
