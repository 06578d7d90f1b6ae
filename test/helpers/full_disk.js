// Preloaded (node --require) by tests to play a full disk: every file opened for writing whose path contains
// $MNIST_LAB_TEST_FULL_DISK fails its writes with ENOSPC, as write(2) does when the disk fills.
"use strict";
const fs = require("node:fs");

const match = process.env.MNIST_LAB_TEST_FULL_DISK;
const open = fs.promises.open;
fs.promises.open = async function openOnFullDisk(file, flags, ...rest) {
  const handle = await open.call(this, file, flags, ...rest);
  if (match && String(file).includes(match) && /[wa+]/.test(String(flags ?? "r"))) {
    handle.writeFile = async () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
    };
  }
  return handle;
};
