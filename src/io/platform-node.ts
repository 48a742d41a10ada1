// What the code shared by Node and browsers needs from Node. Imported as "#platform": the
// package's "imports" map gives Node this module and browsers (bundlers' "browser" condition)
// ./platform-browser.js, which has the same exports and no Node built-ins, so a browser
// bundle never meets a `node:` import. Local files stay behind a function: ./file.js imports
// ./source.js, which imports this module.
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parentPort, Worker } from "node:worker_threads";

/** Reads a local file (wasm.ts loads file: URLs with it); undefined in browsers. */
export const readLocalFile: typeof readFile | undefined = readFile;

/** Writes a local file (writeB2ndFile); undefined in browsers. */
export const writeLocalFile: typeof writeFile | undefined = writeFile;

/** Number of CPUs; undefined in browsers (navigator.hardwareConcurrency there). */
export const cpuCount: (() => number) | undefined = availableParallelism;

/** worker_threads' Worker (the decode pool's workers in Node); undefined in browsers. */
export const NodeWorker: typeof Worker | undefined = Worker;

/** A Node worker's port to its parent (null on the main thread); undefined in browsers. */
export const nodeParentPort: typeof parentPort | undefined = parentPort;

/** The local file sources (FileSource, FileDirectory). */
export function localFiles(): Promise<typeof import("./file.js")> {
  return import("./file.js");
}
