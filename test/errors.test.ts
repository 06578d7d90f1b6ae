import { test } from "node:test";
import assert from "node:assert/strict";
import { MnistLabError, describeValue, invalidParameterError } from "mnist-lab";

test("invalidParameterError says what was expected and what was found", () => {
  const err = invalidParameterError("epochs", "an integer > 0", -3);
  assert.ok(err instanceof MnistLabError);
  assert.equal(err.message, "Expected an integer > 0 for epochs but found number -3");
});

test("describeValue renders values unambiguously", () => {
  assert.equal(describeValue("3"), '"3"');
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue([1, 2]), "an array of length 2");
  assert.equal(describeValue(new Float32Array(4)), "a Float32Array of length 4");
  assert.equal(describeValue(new Map()), "an object (Map)");
  assert.equal(describeValue(NaN), "number NaN");
});
