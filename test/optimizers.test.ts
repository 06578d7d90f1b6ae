import { test } from "node:test";
import assert from "node:assert/strict";
import { KerasAdam, KerasRMSprop, KerasSGD, initBackend, optimizerStateToFiles, restoreOptimizerState, tf } from "mnist-lab";

// Float64 references of Keras 2.3's update rules, written from its formulas, to check our float32 steps.
function rmspropReference(p: number[], grads: number[][], lr: number, rho: number, eps: number): number[] {
  const a = p.map(() => 0);
  const out = [...p];
  for (const g of grads) {
    for (let i = 0; i < out.length; i++) {
      a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
      out[i] -= (lr * g[i]) / (Math.sqrt(a[i]) + eps);
    }
  }
  return out;
}

function adamReference(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out = [...p];
  grads.forEach((g, step) => {
    const t = step + 1;
    const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (let i = 0; i < out.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      out[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + eps);
    }
  });
  return out;
}

/** Gradients spanning the magnitudes that matter: 1e-6 and 1e-4 (where tfjs's RMSprop steps 0.3× Keras's) up to 1. */
const GRADIENTS = [
  [1e-6, -1e-4, 1e-3, -0.5, 1],
  [2e-6, -3e-4, -1e-3, 0.25, 1],
  [-1e-6, 1e-4, 5e-4, 0.5, -1],
  [1e-6, -1e-4, 1e-3, -0.1, 0.5],
  [3e-6, 2e-4, 2e-3, 0.3, 1],
];
const START = [0.5, -0.25, 0.1, 1, -1];

function runSteps(optimizer: tf.Optimizer, name: string): number[] {
  const p = tf.variable(tf.tensor1d(START), true, name);
  for (const g of GRADIENTS) {
    const grad = tf.tensor1d(g);
    optimizer.applyGradients({ [name]: grad });
    grad.dispose();
  }
  const out = Array.from(p.dataSync());
  p.dispose();
  return out;
}

/** Each parameter's total movement agrees with the reference to 1e-4 of itself (float32 against float64). */
function assertMovesLike(actual: number[], expected: number[], what: string): void {
  actual.forEach((x, i) => {
    const want = expected[i] - START[i];
    const got = x - START[i];
    // Plus two float32 ulps of the parameter: a move smaller than that cannot be represented exactly.
    assert.ok(
      Math.abs(got - want) <= 1e-4 * Math.abs(want) + 2.4e-7 * Math.abs(START[i]),
      `${what} [${i}]: expected a move of ${want} but found ${got}`,
    );
  });
}

test("KerasRMSprop steps lr·g/(√a + ε) like Keras 2.3, also for gradients of 1e-4 and 1e-6, where tfjs's rmsprop does not", async () => {
  await initBackend("cpu");
  const expected = rmspropReference(START, GRADIENTS, 0.001, 0.9, 1e-8);
  const optimizer = new KerasRMSprop(0.001, 0.9, 1e-8);
  assertMovesLike(runSteps(optimizer, "rms_p"), expected, "KerasRMSprop");
  optimizer.dispose();
  // tfjs's own rmsprop (lr·g/√(a + ε)) misses the reference on the small gradients: the test can tell them apart.
  const tfjs = tf.train.rmsprop(0.001, 0.9, 0, 1e-8);
  assert.throws(() => assertMovesLike(runSteps(tfjs, "rms_tfjs"), expected, "tf.train.rmsprop"), /\[0\]: expected a move/);
  tfjs.dispose();
});

test("KerasAdam adds ε before the bias correction like Keras 2.3, over several steps", async () => {
  await initBackend("cpu");
  const expected = adamReference(START, GRADIENTS, 0.001, 0.9, 0.999, 1e-8);
  const optimizer = new KerasAdam(0.001, 0.9, 0.999, 1e-8);
  assertMovesLike(runSteps(optimizer, "adam_p"), expected, "KerasAdam");
  optimizer.dispose();
  const tfjs = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  assert.throws(() => assertMovesLike(runSteps(tfjs, "adam_tfjs"), expected, "tf.train.adam"), /expected a move/);
  tfjs.dispose();
});

test("KerasSGD with momentum and Nesterov follows Keras 2.3", async () => {
  await initBackend("cpu");
  for (const nesterov of [false, true]) {
    const moment = START.map(() => 0);
    const expected = [...START];
    for (const g of GRADIENTS) {
      for (let i = 0; i < START.length; i++) {
        moment[i] = 0.9 * moment[i] - 0.01 * g[i];
        expected[i] += nesterov ? 0.9 * moment[i] - 0.01 * g[i] : moment[i];
      }
    }
    const optimizer = new KerasSGD(0.01, 0.9, nesterov);
    assertMovesLike(runSteps(optimizer, `sgd_p_${nesterov}`), expected, `KerasSGD nesterov=${nesterov}`);
    optimizer.dispose();
  }
});

test("KerasAdam state saved after 2 steps and restored into a fresh optimizer continues bit for bit", async () => {
  await initBackend("cpu");
  const straight = new KerasAdam(0.001, 0.9, 0.999, 1e-8);
  const whole = runSteps(straight, "adam_whole");
  straight.dispose();

  const first = new KerasAdam(0.001, 0.9, 0.999, 1e-8);
  const p = tf.variable(tf.tensor1d(START), true, "adam_split");
  const apply = (opt: tf.Optimizer, g: number[], name: string) => {
    const grad = tf.tensor1d(g);
    opt.applyGradients({ [name]: grad });
    grad.dispose();
  };
  GRADIENTS.slice(0, 2).forEach((g) => apply(first, g, "adam_split"));
  const files = await optimizerStateToFiles(first);
  first.dispose();
  // A resumed process builds a new model, whose variable tfjs names differently: state binds by position.
  const q = tf.variable(p, true, "adam_split_resumed");
  p.dispose();
  const second = new KerasAdam(0.001, 0.9, 0.999, 1e-8);
  await restoreOptimizerState(second, files.json, files.bin);
  assert.equal(second.iterations, 2);
  GRADIENTS.slice(2).forEach((g) => apply(second, g, "adam_split_resumed"));
  assert.deepEqual(Array.from(q.dataSync()), whole);
  second.dispose();
  q.dispose();
});

test("KerasRMSprop leaves no tensor behind per step", async () => {
  await initBackend("cpu");
  const optimizer = new KerasRMSprop();
  const p = tf.variable(tf.ones([4]), true, "rms_leak");
  const grad = tf.ones([4]);
  optimizer.applyGradients({ rms_leak: grad });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) optimizer.applyGradients({ rms_leak: grad });
  assert.equal(tf.memory().numTensors, before);
  optimizer.dispose();
  tf.dispose([p, grad]);
});
