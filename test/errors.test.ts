import { test } from "node:test";
import assert from "node:assert/strict";
import { MnistLabError, describeValue, fsErrorCode, fsErrorReason, invalidParameterError } from "mnist-lab";

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

test("fsErrorReason says in words what an errno code means, and keeps the code", () => {
  const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  assert.equal(fsErrorCode(full), "ENOSPC");
  assert.equal(fsErrorReason(full), "the disk is full (ENOSPC)");
  assert.equal(fsErrorReason(Object.assign(new Error("x"), { code: "EROFS" })), "the file system is read-only (EROFS)");
  assert.equal(fsErrorReason(Object.assign(new Error("x"), { code: "ELOOP" })), "the file system refused (ELOOP)");
  assert.equal(fsErrorCode(new Error("plain")), undefined);
  assert.equal(fsErrorReason(new Error("plain")), "plain");
});
