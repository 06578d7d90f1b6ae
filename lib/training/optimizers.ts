import * as tf from "@tensorflow/tfjs-core";
import { KERAS_ADAM_UPDATE, KERAS_RMSPROP_UPDATE, runFusedUpdate } from "../backend";
import { invalidParameterError, MnistLabError } from "../shared/errors";

type NamedTensor = { name: string; tensor: tf.Tensor };

// Keras 2.3's optimizers, as the report ran them. tfjs's own differ where the report's numbers depend on it:
// its RMSprop steps lr·g/√(a + ε) (Keras: lr·g/(√a + ε), far larger steps for small gradients), and its
// Adam adds ε after the bias correction (Keras: before). Every value is float32 as in Keras on TensorFlow.

const f32 = Math.fround;

/** Slots of one model variable, named `<variable>/<slot>` in the saved state. */
interface SlotSet {
  variable: tf.Variable;
  slots: tf.Variable[];
}

/** One variable's part of a step: its slots and its gradient. */
interface VariableUpdate extends SlotSet {
  gradient: tf.Tensor;
}

/**
 * Base of the Keras-exact optimizers: per-variable slot variables created at the first step, the iteration
 * count as an integer (state, not a running product, so a restored optimizer continues bit for bit), and a
 * public `learningRate` that the next step reads (ReduceLROnPlateau sets it).
 */
abstract class KerasOptimizer extends tf.Optimizer {
  protected readonly slotSets = new Map<string, SlotSet>();
  protected abstract readonly slotNames: readonly string[];
  /** Slots read by setWeights, bound to variables at the next step. */
  private restored: tf.Variable[][] | null = null;

  constructor(public learningRate: number) {
    super();
    if (!(learningRate > 0) || !Number.isFinite(learningRate))
      throw invalidParameterError("learning rate", "a finite number > 0", learningRate);
  }

  /** The update of one variable, op by op; `slots` are the variable's slots in `slotNames` order. Runs inside tidy. */
  protected abstract step(value: tf.Variable, gradient: tf.Tensor, slots: tf.Variable[], iteration: number): void;

  /**
   * Every variable's update of one step in one native kernel (the same float32 operations as `step`), or false when
   * the active backend (or this optimizer) has no such kernel. Runs inside tidy.
   */
  protected fusedStep(_updates: VariableUpdate[], _iteration: number): boolean {
    return false;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients).map(([name, tensor]) => [name, tensor] as const);
    if (this.restored) this.bindRestored(entries.map(([name]) => name));
    // Keras's `t = iterations + 1`: the step being taken, counted from 1.
    const iteration = this.iterations + 1;
    const updates: VariableUpdate[] = entries
      .filter(([, gradient]) => gradient != null)
      .map(([name, gradient]) => ({ ...this.slotsFor(name), gradient }));
    if (!tf.tidy(() => this.fusedStep(updates, iteration))) {
      for (const u of updates) tf.tidy(() => this.step(u.variable, u.gradient, u.slots, iteration));
    }
    this.incrementIterations();
  }

  private slotsFor(name: string): SlotSet {
    let set = this.slotSets.get(name);
    if (!set) {
      const variable = registeredVariable(name);
      // tidy: a variable shares its initial value's data, and the zeros tensor itself must go.
      set = { variable, slots: this.slotNames.map(() => tf.tidy(() => tf.variable(tf.zerosLike(variable), false))) };
      this.slotSets.set(name, set);
    }
    return set;
  }

  /**
   * Restored slots belong to the variables in the order they were first updated. tfjs makes variable names
   * unique per process (a second model's kernel is `conv2d_1/kernel_1`), so they are bound by position, checked by shape.
   */
  private bindRestored(names: string[]): void {
    const restored = this.restored!;
    this.restored = null;
    if (restored.length !== names.length) {
      throw new MnistLabError(`Expected optimizer state for ${names.length} variables but found ${restored.length}`);
    }
    names.forEach((name, i) => {
      const variable = registeredVariable(name);
      const slots = restored[i];
      if (!tf.util.arraysEqual(slots[0].shape, variable.shape)) {
        throw new MnistLabError(`Expected optimizer state of shape [${variable.shape}] for ${name} but found [${slots[0].shape}]`);
      }
      this.slotSets.set(name, { variable, slots });
    });
  }

  override dispose(): void {
    for (const set of this.slotSets.values()) tf.dispose(set.slots);
    this.slotSets.clear();
    if (this.restored) tf.dispose(this.restored.flat());
    this.restored = null;
  }

  /** `[iter, <variable>/<slot> …]`, the layout tfjs optimizers use, so checkpoints store it the same way. */
  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, set] of this.slotSets) {
      set.slots.forEach((slot, i) => weights.push({ name: `${name}/${this.slotNames[i]}`, tensor: slot }));
    }
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.dispose();
    const perVariable = this.slotNames.length;
    if (rest.length % perVariable !== 0) {
      throw new MnistLabError(`Expected ${perVariable} optimizer slots per variable but found ${rest.length} slots in all`);
    }
    const restored: tf.Variable[][] = [];
    for (let i = 0; i < rest.length; i += perVariable) {
      restored.push(
        rest.slice(i, i + perVariable).map(({ name, tensor }, k) => {
          if (!name.endsWith(`/${this.slotNames[k]}`))
            throw new MnistLabError(`Expected an optimizer slot named <variable>/${this.slotNames[k]} but found ${name}`);
          return tf.variable(tensor, false);
        }),
      );
    }
    this.restored = restored;
  }
}

function registeredVariable(name: string): tf.Variable {
  const variable = tf.engine().registeredVariables[name];
  if (!variable) throw new MnistLabError(`Expected a registered variable named ${name} to update but found none`);
  return variable;
}

/**
 * Keras 2.3's `RMSprop(lr, rho, epsilon)`: `a ← ρ·a + (1 − ρ)·g²;  p ← p − lr·g / (√a + ε)`.
 *
 * @example
 * model.compile({ optimizer: new KerasRMSprop(0.001), loss: "categoricalCrossentropy" });
 */
export class KerasRMSprop extends KerasOptimizer {
  static readonly className = "KerasRMSprop";
  protected readonly slotNames = ["accumulator"] as const;

  constructor(
    learningRate = 0.001,
    readonly rho = 0.9,
    readonly epsilon = 1e-7,
  ) {
    super(learningRate);
  }

  protected override fusedStep(updates: VariableUpdate[]): boolean {
    const fused = runFusedUpdate(
      KERAS_RMSPROP_UPDATE,
      updates.map((u) => ({ p: u.variable, g: u.gradient, a: u.slots[0] })),
      { learningRate: f32(this.learningRate), rho: f32(this.rho), oneMinusRho: f32(1 - this.rho), epsilon: f32(this.epsilon) },
    );
    if (!fused) return false;
    updates.forEach((u, k) => {
      u.slots[0].assign(fused[k][1]);
      u.variable.assign(fused[k][0]);
    });
    return true;
  }

  protected override step(p: tf.Variable, g: tf.Tensor, [a]: tf.Variable[]): void {
    const newA = tf.add(tf.mul(a, f32(this.rho)), tf.mul(tf.square(g), f32(1 - this.rho)));
    a.assign(newA);
    p.assign(tf.sub(p, tf.div(tf.mul(g, f32(this.learningRate)), tf.add(tf.sqrt(newA), f32(this.epsilon)))));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new KerasRMSprop(config.learningRate as number, config.rho as number, config.epsilon as number) as unknown as T;
  }
}

/**
 * Keras 2.3's `Adam(lr, beta_1, beta_2, epsilon)`, ε added before the bias correction:
 * `m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  p ← p − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)`.
 */
export class KerasAdam extends KerasOptimizer {
  static readonly className = "KerasAdam";
  protected readonly slotNames = ["m", "v"] as const;

  constructor(
    learningRate = 0.001,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    super(learningRate);
  }

  /** Keras's `lr_t` of step t, computed in float32 from t alone (so a resumed run takes the same steps). */
  correctedRate(t: number): number {
    const b1t = f32(Math.pow(f32(this.beta1), t));
    const b2t = f32(Math.pow(f32(this.beta2), t));
    return f32(f32(this.learningRate) * f32(f32(Math.sqrt(f32(1 - b2t))) / f32(1 - b1t)));
  }

  protected override fusedStep(updates: VariableUpdate[], t: number): boolean {
    const fused = runFusedUpdate(
      KERAS_ADAM_UPDATE,
      updates.map((u) => ({ p: u.variable, g: u.gradient, m: u.slots[0], v: u.slots[1] })),
      {
        learningRate: this.correctedRate(t),
        beta1: f32(this.beta1),
        oneMinusBeta1: f32(1 - this.beta1),
        beta2: f32(this.beta2),
        oneMinusBeta2: f32(1 - this.beta2),
        epsilon: f32(this.epsilon),
      },
    );
    if (!fused) return false;
    updates.forEach((u, k) => {
      u.slots[0].assign(fused[k][1]);
      u.slots[1].assign(fused[k][2]);
      u.variable.assign(fused[k][0]);
    });
    return true;
  }

  protected override step(p: tf.Variable, g: tf.Tensor, [m, v]: tf.Variable[], t: number): void {
    const newM = tf.add(tf.mul(m, f32(this.beta1)), tf.mul(g, f32(1 - this.beta1)));
    const newV = tf.add(tf.mul(v, f32(this.beta2)), tf.mul(tf.square(g), f32(1 - this.beta2)));
    m.assign(newM);
    v.assign(newV);
    p.assign(tf.sub(p, tf.div(tf.mul(newM, this.correctedRate(t)), tf.add(tf.sqrt(newV), f32(this.epsilon)))));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new KerasAdam(
      config.learningRate as number,
      config.beta1 as number,
      config.beta2 as number,
      config.epsilon as number,
    ) as unknown as T;
  }
}

/** Keras 2.3's `SGD(lr, momentum, nesterov)`: `v ← μv − lr·g;  p ← p + v` (Nesterov: `p ← p + μv − lr·g`). */
export class KerasSGD extends KerasOptimizer {
  static readonly className = "KerasSGD";
  protected readonly slotNames = ["moment"] as const;

  constructor(
    learningRate = 0.01,
    readonly momentum = 0,
    readonly nesterov = false,
  ) {
    super(learningRate);
  }

  protected override step(p: tf.Variable, g: tf.Tensor, [moment]: tf.Variable[]): void {
    const v = tf.sub(tf.mul(moment, f32(this.momentum)), tf.mul(g, f32(this.learningRate)));
    moment.assign(v);
    p.assign(this.nesterov ? tf.sub(tf.add(p, tf.mul(v, f32(this.momentum))), tf.mul(g, f32(this.learningRate))) : tf.add(p, v));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new KerasSGD(config.learningRate as number, config.momentum as number, config.nesterov as boolean) as unknown as T;
  }
}

// Registered so a model saved with its training config (optimizer included) loads again.
for (const cls of [KerasRMSprop, KerasAdam, KerasSGD]) tf.serialization.registerClass(cls);

export type OptimizerName = "rmsprop" | "adam" | "sgd";
export const OPTIMIZERS: readonly OptimizerName[] = ["rmsprop", "adam", "sgd"];
/** The two the report compares. */
export type ReportOptimizer = "rmsprop" | "adam";
export const REPORT_OPTIMIZERS: readonly ReportOptimizer[] = ["rmsprop", "adam"];

/**
 * The report's optimizers with Keras 2.3's update rules: `RMSprop(lr=0.001, rho=0.9, epsilon=1e-08)` and
 * `Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)`; and Keras's `SGD(lr, momentum, nesterov)` for experiments.
 */
export function makeOptimizer(
  // Spelled out so a type error lists the names: makeOptimizer("Adam") says what it takes.
  name: "rmsprop" | "adam" | "sgd",
  learningRate = 0.001,
  sgd: { momentum?: number; nesterov?: boolean } = {},
): tf.Optimizer {
  switch (name) {
    case "sgd":
      return new KerasSGD(learningRate, sgd.momentum ?? 0, sgd.nesterov ?? false);
    case "rmsprop":
      return new KerasRMSprop(learningRate, 0.9, 1e-8);
    case "adam":
      return new KerasAdam(learningRate, 0.9, 0.999, 1e-8);
    default:
      throw invalidParameterError("optimizer", OPTIMIZERS.map((o) => `"${o}"`).join(", "), name);
  }
}
