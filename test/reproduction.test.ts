import { test } from "node:test";
import assert from "node:assert/strict";
import {
  REPORT_EPOCH_LOGS,
  epochBand,
  groupMachines,
  recipeComparison,
  reportHistory,
  runResultsFrame,
  EARLIER_PADDING,
  resolveTrainConfig,
  seedBandFigure,
  seedGroupFrame,
  seedGroups,
  singleValueTest,
  spread,
  topConfusedPairCounts,
  welchDiffer,
  welchGreater,
  type RunResultSummary,
} from "mnist-lab";

function confusionWith(pairs: Record<string, number>): number[][] {
  const m: number[][] = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 1000 : 0)));
  for (const [key, n] of Object.entries(pairs)) {
    const [a, b] = key.split(",").map(Number);
    m[a][b] = n;
  }
  return m;
}

function result(optimizer: "rmsprop" | "adam", seed: number, finalAcc: number, confusion: number[][]): RunResultSummary {
  const config = resolveTrainConfig({ optimizer, seed });
  const history = Array.from({ length: 40 }, (_, e) => ({
    loss: 0.1,
    accuracy: 0.99,
    val_loss: 0.02,
    val_accuracy: e === 39 ? finalAcc : 0.99 + seed * 1e-4,
    lr: 0.001,
    epoch_seconds: 100,
  }));
  return {
    runId: `${optimizer}-s${seed}`,
    dir: "/nowhere",
    config,
    history,
    steps: [],
    metrics: {
      valAccuracy: finalAcc,
      bestValAccuracy: finalAcc,
      epochsCompleted: 40,
      machine: { cpu: "test CPU", isa: "avx2", cores: 2 },
    } as RunResultSummary["metrics"],
    evaluation: { accuracy: finalAcc, loss: 0.02, confusion, count: 10000 },
  };
}

test("spread gives mean, sample sd and range", () => {
  const s = spread([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual([s.min, s.max, s.n], [1, 4, 4]);
  assert.ok(Number.isNaN(spread([1]).sd));
});

test("welchGreater and welchDiffer match scipy's Welch test and refuse single seeds", () => {
  // scipy.stats.ttest_ind(x, y, equal_var=False, alternative='greater'): statistic 1.8605210188383652, p 0.06884387383003736.
  const r = welchGreater([0.9966, 0.9962, 0.9969], [0.996, 0.9964, 0.9958]);
  assert.ok("pValue" in r);
  assert.ok(Math.abs(r.t - 1.8605210188383652) < 1e-9, `t ${r.t}`);
  assert.ok(Math.abs(r.pValue - 0.06884387383003736) < 1e-6, `p ${r.pValue}`);
  assert.deepEqual(welchGreater([0.99], [0.98, 0.97]), { unavailable: "needs at least 2 seeds per side (found 1 and 2)" });
  // The same with alternative='two-sided': p 0.13768774766007472.
  const both = welchDiffer([0.9966, 0.9962, 0.9969], [0.996, 0.9964, 0.9958]);
  assert.ok("pValue" in both);
  assert.ok(Math.abs(both.pValue - 0.13768774766007472) < 1e-6, `p ${both.pValue}`);
});

test("singleValueTest gives the prediction-interval p-value of one figure against our seeds", () => {
  // numpy/scipy: t = (0.9965 − mean)/(sd·√(1 + 1/3)) = −0.16439898730533017, two-sided p 0.8845299461620937 (df 2).
  const r = singleValueTest(0.9965, [0.9966, 0.9962, 0.9969]);
  assert.ok("pValue" in r);
  assert.ok(Math.abs(r.t + 0.16439898730533017) < 1e-9);
  assert.ok(Math.abs(r.pValue - 0.8845299461620937) < 1e-6);
  assert.equal(r.withinRange, true);
});

test("seedGroups keeps only full runs, groups by optimizer and schedule, and the frame shows mean ± sd", () => {
  const runs = [
    result("rmsprop", 1, 0.9966, confusionWith({ "4,9": 5 })),
    result("rmsprop", 2, 0.9962, confusionWith({ "4,9": 3, "9,4": 4 })),
    result("adam", 1, 0.996, confusionWith({ "0,6": 6 })),
  ];
  const quick = {
    ...result("adam", 9, 0.5, confusionWith({})),
    config: resolveTrainConfig({ optimizer: "adam", epochs: 2, trainLimit: 24080 }),
  };
  const groups = seedGroups([...runs, quick]);
  assert.deepEqual(
    groups.map((g) => `${g.optimizer} ${g.schedule} ${g.runs.length}`),
    ["rmsprop as-run 2", "adam as-run 1"],
  );
  assert.equal(groups[0].final.mean, (0.9966 + 0.9962) / 2);
  const frame = seedGroupFrame(groups);
  assert.deepEqual(frame.getColumn("final val_accuracy").toArray(), ["99.64% ± 0.03 (n = 2)", "99.60% (n = 1)"]);
  assert.deepEqual(frame.getColumn("the report").toArray(), ["99.65%", "99.63%"]);
  // (4,9) tops both RMSprop runs (5 and 3 + 4).
  assert.deepEqual(topConfusedPairCounts(groups[0].runs)[0], { pair: "(4,9)", runsOnTop: 2, meanCount: 6 });
  const band = epochBand(groups[0].runs, "val_accuracy");
  assert.equal(band.epochs.length, 40);
  assert.equal(band.min[0], 0.9901);
  assert.equal(band.max[0], 0.9902);
  const figure = seedBandFigure(groups);
  assert.equal(figure.data.filter((t) => String(t.name).includes("the report's log")).length, 2);
  // Every logged epoch is in view: the report's RMSprop epoch 1 (0.8721) lies inside the y-axis range.
  const [low, high] = (figure.layout!.yaxis as { range: [number, number] }).range;
  assert.ok(low <= 0.8721 && high >= 0.9947, `y-axis ${low}–${high}`);
});

test("REPORT_EPOCH_LOGS holds the report's first ten epochs per optimizer, as printed", () => {
  assert.equal(REPORT_EPOCH_LOGS.RMSprop.length, 10);
  assert.deepEqual(REPORT_EPOCH_LOGS.RMSprop[1], {
    epoch: 2,
    seconds: 175,
    loss: 0.112,
    accuracy: 0.9664,
    val_loss: 0.0279,
    val_accuracy: 0.9916,
  });
  assert.deepEqual(REPORT_EPOCH_LOGS.Adam[9], {
    epoch: 10,
    seconds: 165,
    loss: 0.0392,
    accuracy: 0.9881,
    val_loss: 0.0159,
    val_accuracy: 0.9943,
  });
  assert.deepEqual(reportHistory("Adam")[0], {
    loss: 0.1126,
    accuracy: 0.9658,
    val_loss: 0.0865,
    val_accuracy: 0.9756,
    epoch_seconds: 213,
  });
});

test("replayReportSchedule shows the report's schedule never fired as run, and would have after epoch 5 as intended", async () => {
  const { replayReportSchedule } = await import("mnist-lab");
  assert.deepEqual(await replayReportSchedule("as-run"), [
    "RuntimeWarning: Reduce LR on plateau conditioned on metric `val_acc` which is not available. " +
      "Available metrics are: val_loss,val_accuracy,loss,accuracy,lr",
  ]);
  assert.deepEqual(await replayReportSchedule("as-intended"), [
    "Epoch 00005: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.",
  ]);
});

test("the verdicts are computed from the runs: report's figure, RMSprop vs Adam, early epochs, confused pairs", async () => {
  const { reproductionVerdicts, optimizerComparison, earlyEpochComparison, confusedPairVerdicts } = await import("mnist-lab");
  const runs = [
    result("rmsprop", 1, 0.9966, confusionWith({ "4,9": 5, "0,6": 3 })),
    result("rmsprop", 2, 0.9962, confusionWith({ "4,9": 6, "6,0": 2 })),
    result("rmsprop", 3, 0.9969, confusionWith({ "9,4": 7 })),
    result("adam", 1, 0.996, confusionWith({ "4,9": 5 })),
    result("adam", 2, 0.9964, confusionWith({ "7,2": 9, "0,6": 1 })),
    result("adam", 3, 0.9958, confusionWith({ "4,9": 8 })),
  ];
  const groups = seedGroups(runs);
  const verdicts = reproductionVerdicts(groups);
  assert.match(
    verdicts[0],
    new RegExp(
      "^RMSprop as-run: the report's 99\\.65% against ours 99\\.66% ± 0\\.04 \\(n = 3\\): a plausible draw from our seeds' " +
        "distribution \\(t = -0\\.16, df 2, two-sided p 0\\.885\\); it lies within our range 99\\.62–99\\.69%\\. " +
        "With n = 3 seeds the test needs \\|t\\| > 4\\.30 to call a figure unlikely at 5%: more seeds would sharpen this\\.$",
    ),
  );
  assert.match(optimizerComparison(groups)[0], /no evidence that RMSprop beats Adam .* one-sided p 0\.069\./);
  assert.match(
    earlyEpochComparison(groups)[0],
    new RegExp(
      "^as-run: over the first 10 epochs RMSprop's mean val_accuracy is below Adam's in 0 of 10 epochs " +
        "\\(the report's single runs: \\d+ of 10\\)\\.$",
    ),
  );
  const pairs = confusedPairVerdicts(groups);
  assert.match(pairs[0], /^RMSprop as-run: \(4,9\) is the most confused pair in 3 of 3 seeds/);
  assert.match(pairs[1], /^Adam as-run: \(4,9\) is the most confused pair in 2 of 3 seeds/);
  assert.match(pairs[2], /\(0,6\) confused 1\.7 times under RMSprop .* vs 0\.3 under Adam .*: the report's remark holds on average\.$/);
  assert.deepEqual(reproductionVerdicts([]), ["No full-profile runs in results/ yet: nothing to compare with the report."]);
});

test("runResultsFrame names the pairs tied for the most confused, and (0,6) in both directions", () => {
  const runs = [result("adam", 1, 0.9957, confusionWith({ "2,7": 4, "7,2": 2, "9,4": 6, "0,6": 1, "6,0": 1 }))];
  runs[0].metrics.totalSeconds = 6907.8;
  runs[0].metrics.secondsPerEpoch = 172.7;
  const row = runResultsFrame(runs).row(0);
  const columns = runResultsFrame(runs).columns;
  const cell = (name: string) => row[columns.indexOf(name)];
  assert.equal(cell("most confused"), "(2,7), (4,9): 6 each");
  assert.equal(cell("(0,6)"), 2);
  assert.equal(cell("seconds"), 6908);
  assert.equal(cell("s/epoch"), 173);
  assert.equal(cell("recipe"), "as-run");
  const single = runResultsFrame([result("adam", 2, 0.99, confusionWith({ "3,5": 7, "4,9": 2 }))]);
  assert.equal(single.row(0)[columns.indexOf("most confused")], "(3,5): 7");
  // A run of an earlier recipe says which.
  const earlier = result("adam", 3, 0.99, confusionWith({}));
  const config = { ...earlier.config, loss: "clipped" as const, model: { ...earlier.config.model!, paddings: EARLIER_PADDING } };
  assert.equal(runResultsFrame([{ ...earlier, config }]).row(0)[columns.indexOf("recipe")], "as-run, clipped loss, padding sss");
});

test("groupMachines lists each known CPU once and each run with an unknown CPU on its own", () => {
  const confusion = confusionWith({ "4,9": 3 });
  const withMachines = (seed: number, machines: { cpu: string; isa: string; fromEpoch: number; threads?: number }[]) => {
    const r = result("rmsprop", seed, 0.99, confusion);
    return { ...r, metrics: { ...r.metrics, machine: undefined, machines } } as unknown as RunResultSummary;
  };
  const epyc = { cpu: "AMD EPYC (family 26, model 2)", isa: "avx512", fromEpoch: 1 };
  const unknown = { cpu: "unknown CPU", isa: "unknown", fromEpoch: 1 };
  const runs = [
    withMachines(1, [epyc]),
    withMachines(2, [epyc]),
    withMachines(3, [unknown]),
    withMachines(4, [unknown]),
    withMachines(5, [unknown, { ...epyc, fromEpoch: 5 }]),
    withMachines(6, []),
    withMachines(7, [{ ...epyc, threads: 2 }]),
  ];
  assert.equal(
    groupMachines(runs),
    "AMD EPYC (family 26, model 2) [avx512]; AMD EPYC (family 26, model 2) [avx512, 2 threads]; " +
      "unknown CPU [unknown] (seed 3); unknown CPU [unknown] (seed 4); " +
      "unknown CPU [unknown] from epoch 1; AMD EPYC (family 26, model 2) [avx512] from epoch 5 (seed 5); unknown CPU (seed 6)",
  );
});

test("recipeComparison sets an earlier recipe's group against the current one's by the last epoch and by the late epochs' mean", () => {
  // A run whose val_accuracy wobbles ±0.08 points around `level` over its last ten epochs and ends at `last`.
  const run = (seed: number, earlierRecipe: boolean, level: number, last: number) => {
    const r = result("rmsprop", seed, last, confusionWith({}));
    r.history.forEach((h, e) => (h.val_accuracy = e < 29 ? 0.99 : e === 39 ? last : level + (e % 2 === 0 ? 8e-4 : -8e-4) + seed * 2e-4));
    const config = earlierRecipe
      ? { ...r.config, loss: "clipped" as const, model: { ...r.config.model!, paddings: EARLIER_PADDING } }
      : r.config;
    return { ...r, config };
  };
  const now = [1, 2, 3].map((seed) => run(seed, false, 0.995, 0.9944 + seed * 1e-5));
  const sameLate = [1, 2, 3].map((seed) => run(seed, true, 0.995, 0.9956 + seed * 1e-5));
  const [line] = recipeComparison(seedGroups([...now, ...sameLate]));
  assert.match(
    line,
    new RegExp(
      "^RMSprop, as-run against as-run, clipped loss, padding sss: " +
        "the last epoch 99\\.44% ± 0\\.00 \\(n = 3\\) vs 99\\.56% ± 0\\.00 \\(n = 3\\) " +
        "\\(−0\\.12 points; Welch two-sided p < 0\\.001\\); " +
        "the mean of the 10 epochs before it 99\\.54% .* \\(0\\.00 points; Welch two-sided p 1\\.000\\)\\. " +
        "Within a run one epoch's val_accuracy moves 0\\.08 points .*: no evidence that the recipes differ late in training; " +
        "the last epoch's gap of 0\\.12 points is within two of those moves, so it may be that epoch's draw\\.$",
    ),
  );
  const higherLate = [1, 2, 3].map((seed) => run(seed, true, 0.996, 0.9956 + seed * 1e-5));
  assert.match(recipeComparison(seedGroups([...now, ...higherLate]))[0], /: the recipes differ late in training, by −0\.10 points\.$/);
  assert.match(
    recipeComparison(seedGroups([now[0], higherLate[0]]))[0],
    /\(n = 1\).*no test: needs at least 2 seeds .*: too few seeds to test the late epochs\.$/,
  );
  assert.deepEqual(recipeComparison(seedGroups(now)), ["No earlier recipe's group beside the current one's to compare."]);
});
