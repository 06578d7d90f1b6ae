import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { PROFILES, PROFILE_SETTINGS, loadFinishedRun, profileTrainConfig, runDirFor } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";

test("profileTrainConfig sizes the report's training per profile; full is the report's 40 epochs on all data", () => {
  assert.deepEqual(PROFILES, ["smoke", "quick", "full"]);
  assert.deepEqual(profileTrainConfig("full", "adam"), { epochs: 40, trainLimit: null, validationLimit: null, optimizer: "adam" });
  const smoke = profileTrainConfig("smoke", "rmsprop", { seed: 7 });
  assert.equal(smoke.epochs, PROFILE_SETTINGS.smoke.epochs);
  assert.equal(smoke.seed, 7);
  assert.throws(() => profileTrainConfig("huge" as never, "adam"), /Expected profile smoke, quick, full but found "huge"/);
});

test("runDirFor differs per optimizer and profile; loadFinishedRun explains how to make a missing run", () => {
  const runs = tempDir();
  const a = runDirFor(profileTrainConfig("smoke", "adam"), runs);
  const r = runDirFor(profileTrainConfig("smoke", "rmsprop"), runs);
  const q = runDirFor(profileTrainConfig("quick", "adam"), runs);
  assert.equal(new Set([a, r, q]).size, 3);
  assert.equal(path.dirname(a), runs);
  assert.throws(
    () => loadFinishedRun(profileTrainConfig("smoke", "adam"), runs),
    new RegExp(
      "Expected a finished adam run at .* but found none; " +
        "run notebooks\\/02_train.ipynb with profile smoke, seed 42 and schedule as-run first, " +
        "or mnist-lab report --profile smoke --seed 42 --schedule as-run$",
    ),
  );
});
