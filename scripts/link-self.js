#!/usr/bin/env node
// node_modules/mnist-lab -> .. : notebooks and tests import the built library by its package name
// (tslab compiles only files under the kernel's folder, so a relative import of ../lib cannot work).
// npm install prunes this link as extraneous; postinstall and set-up put it back.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const link = path.join(__dirname, "..", "node_modules", "mnist-lab");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  if (fs.readlinkSync(link) === "..") process.exit(0);
  fs.unlinkSync(link);
} catch {
  /* no link yet */
}
fs.symlinkSync("..", link, "dir");
