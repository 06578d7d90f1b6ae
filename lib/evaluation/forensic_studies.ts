// The forensic studies of the report's logged lines, as code: which runs each one trains. Each run is an
// ordinary resumable run (trainRun) whose summary, per-step history included, is exported to
// forensics/<study>/<run-id>/ by `mnist-lab forensics <study>`; 06_forensics reads them back.
import { paddingReadingName, paddingReadings, type Padding } from "../model/model";
import { resolveTrainConfig, runIdFor, type TrainConfigInput } from "../training/runs";

export type ForensicStudy =
  | "padding"
  | "padding-confirm"
  | "loss-confirm"
  | "head-start"
  | "collapse"
  | "reenact"
  | "reenact-recipe"
  | "control"
  | "engine-check"
  | "bf16-check";
export const FORENSIC_STUDIES: readonly ForensicStudy[] = [
  "padding",
  "padding-confirm",
  "loss-confirm",
  "head-start",
  "collapse",
  "reenact",
  "reenact-recipe",
  "control",
  "engine-check",
  "bf16-check",
];

/**
 * What a study's runs depend on from earlier studies: the head start the window fit found (reenact, reenact-recipe),
 * and the padding readings the screen left within reach of its best (padding-confirm).
 */
export interface StudyEvidence {
  headStartSteps?: number;
  paddingFinalists?: string[];
}

/**
 * The padding the studies other than the padding screen and confirmation ran with: conv 3–5 'same', the recipe's
 * reading until the confirmation settled another. Their runs keep it, so a re-run resumes them instead of mixing two
 * readings in one study.
 */
export const EARLIER_PADDING: [Padding, Padding, Padding, Padding, Padding] = ["valid", "valid", "same", "same", "same"];
export const EARLIER_PADDING_READING = paddingReadingName(EARLIER_PADDING);
const earlier = { paddings: EARLIER_PADDING };

/** Seeds and epochs of the padding confirmation: ≥ 2 seeds, and the report's ten logged epochs. */
export const PADDING_CONFIRM = { seeds: [1, 2], epochs: 10 } as const;

/** The runs a study trains: full data, the report's augmentation and batch, the as-run recipe unless stated. */
export function studyRuns(study: ForensicStudy, evidence: StudyEvidence = {}): Array<{ label: string; config: TrainConfigInput }> {
  switch (study) {
    case "reenact": {
      // The report's logged Adam fit re-enacted: the head start the window fit found, then ten logged epochs.
      const headStartSteps = evidence.headStartSteps;
      if (!headStartSteps) return [];
      return [
        {
          label: `adam s1 after ${headStartSteps} steps`,
          config: { optimizer: "adam", epochs: 10, seed: 1, headStartSteps, model: earlier },
        },
      ];
    }
    case "reenact-recipe": {
      // The same on the recipe's own network and loss, with the head start its full runs' first epochs put it at.
      const headStartSteps = evidence.headStartSteps;
      if (!headStartSteps) return [];
      return [
        { label: `adam s1 after ${headStartSteps} steps, the recipe`, config: { optimizer: "adam", epochs: 10, seed: 1, headStartSteps } },
      ];
    }
    case "control": {
      // Adam from a model RMSprop trained for 10 epochs: its epoch 1 should print ≥ 0.99, not the report's 0.9658.
      const rmsprop: TrainConfigInput = { optimizer: "rmsprop", epochs: 10, seed: 1, model: earlier };
      return [
        { label: "rmsprop s1, 10 epochs", config: rmsprop },
        {
          label: "adam s1 from it",
          config: { optimizer: "adam", epochs: 1, seed: 1, model: earlier, startFrom: runIdFor(resolveTrainConfig(rmsprop)) },
        },
      ];
    }
    case "padding":
      // Screen: every reading, one seed, 5 epochs per optimizer; the report logs epochs 1–10.
      return paddingReadings().flatMap(({ reading, name }) =>
        (["rmsprop", "adam"] as const).map((optimizer) => ({
          label: `${optimizer} ${name}`,
          config: { optimizer, epochs: 5, seed: 1, model: { paddings: ["valid", "valid", ...reading] } },
        })),
      );
    case "padding-confirm": {
      // The finalists of the screen, on two seeds over the report's ten logged epochs.
      const finalists = paddingReadings().filter(({ name }) => evidence.paddingFinalists?.includes(name));
      return finalists.flatMap(({ reading, name }) =>
        PADDING_CONFIRM.seeds.flatMap((seed) =>
          (["rmsprop", "adam"] as const).map((optimizer) => ({
            label: `${optimizer} ${name} s${seed}`,
            config: { optimizer, epochs: PADDING_CONFIRM.epochs, seed, model: { paddings: ["valid", "valid", ...reading] } },
          })),
        ),
      );
    }
    case "loss-confirm":
      // The clipped loss on the recipe's network, with the confirmation's seeds and epochs: the recipe's own full runs
      // (loss from the logits) of the same seeds are the other side, so only this side is trained.
      return PADDING_CONFIRM.seeds.flatMap((seed) =>
        (["rmsprop", "adam"] as const).map((optimizer) => ({
          label: `${optimizer} s${seed} clipped loss`,
          config: { optimizer, epochs: PADDING_CONFIRM.epochs, seed, loss: "clipped" },
        })),
      );
    case "engine-check":
      // Fresh seeds trained by the current engine, to set against the bands of head-start (Adam, 3 epochs, seeds 1–3)
      // and collapse (RMSprop, 2 epochs, seeds 1–10) with bench/seed_band.ts: a change of engine must land inside them.
      return [
        { label: "adam s4", config: { optimizer: "adam", epochs: 3, seed: 4, model: earlier } },
        { label: "rmsprop s11", config: { optimizer: "rmsprop", epochs: 2, seed: 11, model: earlier } },
      ];
    case "bf16-check":
      // engine-check's runs under mixed_bfloat16 (bf16 convolutions): they must land inside the same float32 bands.
      return studyRuns("engine-check").map(({ label, config }) => ({
        label: `${label} mixed_bfloat16`,
        config: { ...config, precision: "mixed_bfloat16" },
      }));
    case "head-start":
      // Adam's per-step curve over 3 epochs: room to slide a 697-step window up to one epoch in.
      return [1, 2, 3].map((seed) => ({ label: `adam s${seed}`, config: { optimizer: "adam", epochs: 3, seed, model: earlier } }));
    case "collapse":
      // RMSprop's first two epochs on ten seeds: how often its epoch 1 collapses late.
      return Array.from({ length: 10 }, (_, i) => ({
        label: `rmsprop s${i + 1}`,
        config: { optimizer: "rmsprop", epochs: 2, seed: i + 1, model: earlier },
      }));
  }
}
