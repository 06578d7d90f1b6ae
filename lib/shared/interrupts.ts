import { MnistLabError } from "./errors";

/** Thrown when work would start in a notebook cell that was already interrupted (Kernel › Interrupt). */
export class CellInterrupted extends MnistLabError {
  constructor(what: string) {
    super(`Expected ${what} to run in a cell that was not interrupted but the cell was interrupted; it did not start`);
    this.name = "CellInterrupted";
  }
}

// Set by lib/notebook in a tslab kernel; elsewhere (the CLI, tests) no cell can be interrupted.
let cellInterruptedCheck: (() => boolean) | null = null;

/** Installs how to tell whether the running notebook cell was interrupted (lib/notebook's kernel hook). */
export function setCellInterruptedCheck(check: (() => boolean) | null): void {
  cellInterruptedCheck = check;
}

/**
 * Throws CellInterrupted when the notebook cell running this was interrupted. tslab ends an interrupted cell's
 * execution but not its promise, so without this the cell's later statements would still train, load and draw.
 */
export function throwIfCellInterrupted(what: string): void {
  if (cellInterruptedCheck?.()) throw new CellInterrupted(what);
}
