import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const FIXTURES = `${ROOT}fixtures/data`;
export const PYTHON = `${ROOT}.venv/bin/python`;

/** The venv's python, creating the venv (through the project's setup) when it is missing. */
export function python(): string {
  if (!existsSync(PYTHON)) execFileSync("bash", [`${ROOT}scripts/setup.sh`], { stdio: "inherit" });
  return PYTHON;
}

export function runPython(
  args: string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(python(), args, { cwd: ROOT, encoding: "utf8", input, maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface ManifestChunk {
  name: string;
  file: string;
  input: string | null;
  codec: string;
  clevel: number;
  typesize: number;
  filters: string[];
  filtersMeta: number[];
  blocksize: number;
  splitmode: string;
  useDict: boolean;
  special: string;
  memcpyed: boolean;
  nbytes: number;
  cbytes: number;
  sha256: string | null;
}

export interface Manifest {
  generator: Record<string, string>;
  inputs: Record<string, { file: string; nbytes: number; sha256: string }>;
  chunks: ManifestChunk[];
}

export function readManifest(dir = FIXTURES): Manifest {
  return JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")) as Manifest;
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.length),
      Buffer.from(b.buffer, b.byteOffset, b.length),
    ) === 0
  );
}

/** Reads a .npy file (format 1.x/2.x): dtype string, shape and the raw data bytes. */
export function readNpy(path: string): { dtype: string; shape: number[]; data: Uint8Array } {
  const bytes = readBytes(path);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") {
    throw new Error(`${path} is not a .npy file`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? "";
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path} is in Fortran order`);
  return { dtype: descr, shape, data: bytes.subarray(start + headerLen) };
}

export interface B2ndManifestArray {
  name: string;
  path: string;
  sparse: boolean;
  shape: number[];
  chunks: number[];
  blocks: number[];
  dtype: string;
  metaDtype: string | null;
  metalayer: string;
  codec: string;
  clevel: number;
  filters: string[];
  attrs: Record<string, unknown>;
  special: string;
  unsupported: boolean;
  sha256: string | null;
  typesize: number;
  nchunks: number;
  chunkKinds: Record<string, number>;
}

export function readB2ndManifest(dir = FIXTURES): { arrays: B2ndManifestArray[] } {
  return JSON.parse(readFileSync(`${dir}/b2nd-manifest.json`, "utf8")) as {
    arrays: B2ndManifestArray[];
  };
}

export interface ZarrManifestArray {
  name: string;
  path: string;
  zarr_format: number;
  shape: number[];
  chunks: number[];
  shards: number[] | null;
  dtype: string;
  numpy_dtype: string;
  fill_value: unknown;
  codecs: string[];
  missing_chunks: string[];
  npy: string | null;
}

export function readZarrManifest(dir = FIXTURES): { arrays: ZarrManifestArray[] } {
  return JSON.parse(readFileSync(`${dir}/zarr-manifest.json`, "utf8")) as {
    arrays: ZarrManifestArray[];
  };
}

/** Plain JS values of zarrita chunk data (BoolArray, typed arrays) for comparisons. */
export function valuesOf(data: unknown): unknown[] {
  const d = data as { length: number; get?: (i: number) => unknown };
  if (typeof d.get === "function") return Array.from({ length: d.length }, (_, i) => d.get!(i));
  return Array.from(data as ArrayLike<unknown>);
}

export const CLI = `${ROOT}dist/cli/main.js`;

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/ when the CLI is missing or older than the sources. */
export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest(`${ROOT}src`)) return;
  // tsc emits even when some file has a type error; the CLI must exist afterwards.
  spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  if (!existsSync(CLI)) throw new Error("building dist/ did not produce dist/cli/main.js");
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking this process (test servers live here). */
export function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ status: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}
