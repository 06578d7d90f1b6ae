import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError, choiceOption, integerOption } from "../cli/options";

const usageError = (message: string) => (err: unknown) => err instanceof UsageError && err.message === message;

test("integerOption takes decimal digits within the range and refuses anything else, naming the flag, the range and the value", () => {
  assert.equal(integerOption("--epochs", "40", 1), 40);
  assert.equal(integerOption("--epochs", " +7 ", 1), 7);
  assert.equal(integerOption("--seed", "0", 0), 0);
  assert.equal(integerOption("--port", "65535", 1, 65535), 65535);
  for (const bad of ["0", "-1", "-0", "1e3", "0x10", "8.5", "", " ", "ten", "9007199254740993"]) {
    assert.throws(
      () => integerOption("--epochs", bad, 1),
      usageError(`Expected --epochs to be an integer ≥ 1 but found ${JSON.stringify(bad)}`),
    );
  }
  assert.throws(
    () => integerOption("--port", "65536", 1, 65535),
    usageError('Expected --port to be an integer from 1 to 65535 but found "65536"'),
  );
});

test("choiceOption returns a listed choice and otherwise names every choice and what was found", () => {
  assert.equal(choiceOption("--schedule", "as-intended", ["as-run", "as-intended"]), "as-intended");
  assert.throws(
    () => choiceOption("--schedule", "As-Run", ["as-run", "as-intended"]),
    usageError('Expected --schedule to be one of as-run, as-intended but found "As-Run"'),
  );
});
