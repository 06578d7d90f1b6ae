import { test } from "node:test";
import assert from "node:assert/strict";
import { REPORT_FINAL_ACCURACY, accuracyComparisonFrame, checkReportObservations, observationFrame, profileScope } from "mnist-lab";

/** A 10×10 matrix with `diag` on the diagonal and the given off-diagonal cells. */
function matrix(cells: [number, number, number][], diag = 900): number[][] {
  const m = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? diag : 0)));
  for (const [i, j, n] of cells) m[i][j] = n;
  return m;
}

test("checkReportObservations holds when (4,9) tops both and 0↔6 is higher under RMSprop", () => {
  const rmsprop = matrix([
    [4, 9, 6],
    [9, 4, 3],
    [0, 6, 4],
    [6, 0, 1],
    [3, 5, 2],
  ]);
  const adam = matrix([
    [9, 4, 7],
    [0, 6, 1],
    [7, 2, 3],
  ]);
  const checks = checkReportObservations({ RMSprop: rmsprop, Adam: adam });
  assert.deepEqual(
    checks.map((c) => c.holds),
    [true, true],
  );
  assert.deepEqual(
    checks.map((c) => c.verdict),
    ["yes", "yes"],
  );
  assert.match(checks[0].evidence, /rank under RMSprop 1 .*under Adam 1/);
  assert.match(checks[1].evidence, /RMSprop 5, Adam 1/);
});

test("checkReportObservations says when an observation does not hold", () => {
  const rmsprop = matrix([
    [1, 7, 9],
    [2, 3, 8],
    [5, 3, 7],
    [4, 9, 1],
  ]);
  const adam = matrix([
    [4, 9, 5],
    [0, 6, 2],
  ]);
  const checks = checkReportObservations({ RMSprop: rmsprop, Adam: adam });
  assert.deepEqual(
    checks.map((c) => c.holds),
    [false, false],
  );
  assert.match(checks[0].evidence, /rank under RMSprop 4/);
  assert.equal(observationFrame(checks).height, 2);
});

test("checkReportObservations assesses nothing under smoke and marks quick's verdicts indicative", () => {
  const rmsprop = matrix([
    [4, 9, 6],
    [0, 6, 4],
  ]);
  const adam = matrix([
    [9, 4, 7],
    [0, 6, 1],
  ]);
  const smoke = checkReportObservations({ RMSprop: rmsprop, Adam: adam }, { profile: "smoke" });
  assert.deepEqual(
    smoke.map((c) => c.holds),
    [null, null],
  );
  assert.match(smoke[0].verdict, /^not assessed \(smoke profile: 2 epochs × 1,720 images\)$/);
  assert.match(smoke[1].evidence, /RMSprop 4, Adam 1/, "the evidence is still shown");
  const quick = checkReportObservations({ RMSprop: rmsprop, Adam: adam }, { profile: "quick" });
  assert.deepEqual(
    quick.map((c) => c.verdict),
    ["yes (indicative: quick profile)", "yes (indicative: quick profile)"],
  );
  assert.deepEqual(
    observationFrame(smoke).getColumn("holds here").toArray(),
    smoke.map((c) => c.verdict),
  );
});

test("accuracyComparisonFrame puts our accuracy beside the report's", () => {
  const frame = accuracyComparisonFrame({ RMSprop: 0.996, Adam: 0.997 });
  assert.deepEqual(frame.getColumn("report's accuracy").toArray(), [REPORT_FINAL_ACCURACY.RMSprop, REPORT_FINAL_ACCURACY.Adam]);
  assert.deepEqual(frame.getColumn("difference (points)").toArray(), [-0.05, 0.07]);
});

test("accuracyComparisonFrame gives no difference for a profile that trains less than the report", () => {
  const frame = accuracyComparisonFrame({ RMSprop: 0.1342, Adam: 0.4455 }, { profile: "smoke" });
  assert.deepEqual(frame.columns, ["optimizer", "our accuracy", "report's accuracy", "note"]);
  assert.equal(
    frame.getColumn("note").toArray()[0],
    "not comparable: 2 epochs × 1,720 images here, 40 epochs × 60,000 images in the report",
  );
});

test("profileScope gives a profile's size and what it can show", () => {
  const smoke = profileScope("smoke");
  assert.equal(smoke.training, "2 epochs × 1,720 images");
  assert.equal(smoke.validation, "1,000 test images");
  assert.match(smoke.canShow, /every step runs/);
  assert.equal(profileScope("full").training, "40 epochs × 60,000 images");
  assert.equal(profileScope("full").validation, "10,000 test images");
});
