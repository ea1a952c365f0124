#!/usr/bin/env node
// Runs the webhook-harness binary of this platform's package (the esbuild
// pattern: npm installs only the optional dependency whose "os" and "cpu"
// match), passing the arguments, the exit code and signals through.
"use strict";

const { spawnSync } = require("child_process");
const path = require("path");

// One entry per platform package published; npm installs the matching one.
const PACKAGES = {
  "linux x64": "webhook-harness-linux-x64",
};

function binaryPath() {
  const platform = `${process.platform} ${process.arch}`;
  const name = PACKAGES[platform];
  if (!name) {
    console.error(
      `error: webhook-harness has no npm package for ${platform} yet; ` +
        "install it with pip (pip install webhook-harness) or cargo (cargo install webhook-harness)"
    );
    process.exit(1);
  }
  try {
    const manifest = require.resolve(`${name}/package.json`);
    const exe = process.platform === "win32" ? "webhook-harness.exe" : "webhook-harness";
    return path.join(path.dirname(manifest), "bin", exe);
  } catch {
    console.error(
      `error: the package ${name} is missing (npm skipped the optional dependency); ` +
        "install again without --no-optional / --omit=optional"
    );
    process.exit(1);
  }
}

const result = spawnSync(binaryPath(), process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`error: could not start webhook-harness: ${result.error.message}`);
  process.exit(1);
}
if (result.signal) {
  // Die of the same signal, so that a shell sees what happened.
  process.kill(process.pid, result.signal);
}
process.exit(result.status ?? 1);
