import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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
