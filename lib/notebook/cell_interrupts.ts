import { setCellInterruptedCheck } from "../shared/interrupts";
import { trainingsInProgress } from "../training/train";

/** The parts of tslab's kernel (tslab/dist/jupyter) this module relies on; tslab exports no hook for interrupts. */
interface TslabJupyter {
  /** The display writer of the cell that runs (or ran last): a new function for every execute request. */
  lastWriteDisplayData: ((data: unknown, update: boolean) => void) | null;
  JupyterHandlerImpl: { prototype: { handleExecuteImpl: (...args: unknown[]) => Promise<unknown> } };
}

/** What an interrupted cell prints when no training says it itself (a training names its run and what is saved). */
export const CELL_INTERRUPTED_LINE = "Interrupted: this cell stopped here and its later statements did not run; run it again to redo it.";

const muted = () => true;
const mutedDisplay = () => undefined;

/**
 * Makes Kernel › Interrupt end a tslab cell with one line and nothing after it. tslab answers SIGINT by rejecting
 * the cell with `Error: Interrupted asynchronously` and its stack, while the cell's promise runs on and keeps
 * printing. Here, after the other SIGINT listeners (a training prints its own line and stops after its batch),
 * the cell prints one line when nothing else did, its outputs are muted until the next cell starts (tslab sets
 * them afresh per cell), and the library's later calls in it throw CellInterrupted (see throwIfCellInterrupted).
 */
export function installCellInterrupts(jupyter: TslabJupyter): void {
  const handler = jupyter.JupyterHandlerImpl.prototype;
  // Imported from inside a cell, so one runs now; the wrapper below tracks the cells after it.
  let cellRunning = true;
  const execute = handler.handleExecuteImpl;
  handler.handleExecuteImpl = async function (this: unknown, ...args: unknown[]) {
    cellRunning = true;
    try {
      return await execute.apply(this, args);
    } finally {
      cellRunning = false;
    }
  };
  setCellInterruptedCheck(() => jupyter.lastWriteDisplayData === mutedDisplay);
  // tslab's own listener (executor.interrupt), registered at kernel start: it now runs after the cell is muted.
  const tslabListeners = process.listeners("SIGINT") as ((signal: NodeJS.Signals) => void)[];
  for (const listener of tslabListeners) process.off("SIGINT", listener);
  process.on("SIGINT", () => {
    const trainingSaysSo = trainingsInProgress() > 0;
    const interrupting = cellRunning && jupyter.lastWriteDisplayData !== mutedDisplay;
    // After this emit's other listeners, before the promise jobs in which tslab prints its error.
    process.nextTick(() => {
      if (interrupting) {
        if (!trainingSaysSo) process.stdout.write(`${CELL_INTERRUPTED_LINE}\n`);
        jupyter.lastWriteDisplayData = mutedDisplay;
        process.stdout.write = muted as typeof process.stdout.write;
        process.stderr.write = muted as typeof process.stderr.write;
      }
      for (const listener of tslabListeners) listener("SIGINT");
    });
  });
}
