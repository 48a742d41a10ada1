#!/usr/bin/env node
// Mutation fuzzer for the decoders: plain Blosc2 chunks (chunkInfo, decompress,
// decompressItems, decompressBlocks) and b2nd frames (openB2nd + get of several selections,
// in memory; every ~50th case also through the CLI's `slice` and `info`).
//
//   node scripts/fuzz.mjs --seconds 60 --seed 1     (needs dist/: npx tsc -p tsconfig.build.json)
//   node scripts/fuzz.mjs --replay fixtures/data/fuzz-regressions/<hash>.b2nd
//
// Inputs are the fixtures (fixtures/data/chunks/*.b2, fixtures/data/b2nd/*.b2nd and b2nd
// frames from fixtures/data/zarr), mutated by bit flips, byte sets, truncations, junk
// extensions, edits of the length and offset fields (chunk nbytes/blocksize/cbytes/block
// starts, frame header_len/frame_len/header sizes/b2nd metalayer/chunk index/trailer_len) and
// chunk swaps. Case i depends only on the seed and i, so `--seed S --cases N` replays a run.
//
// The cases run in a worker thread, so a synchronous hang can be cut off (per-case timeout
// 30 s: a guard against true hangs, far above any case's normal time on a loaded machine). Each case is: ok, a typed error (a ZarrBlosc2Error subclass, counted per class), or a
// failure: crash (any other exception, a result whose size disagrees with the shape, a dead
// worker, a CLI run that does not exit 0 with an empty stderr or 1 with exactly one
// "zarr-blosc2: " stderr line and no stack trace), trap (WasmTrapError), hang (over the
// timeout) or leak (the wasm heap in use, checked every 500 cases after decoding two fixed
// probe chunks, grows past its baseline by more than dlmalloc's rounding). In-process decodes
// pass maxDecodedBytes 64 MiB, as a caller of untrusted bytes would.
//
// Failing inputs are saved under fixtures/data/fuzz-regressions/<hash>.<b2|b2nd> (--save-dir
// to change) with a .json note: target, mutations, error, the case seed. A note may be edited
// when triaging: `only` ({ ops, blocks, items, maxDecodedBytes: null for the default }) narrows
// a chunk replay, `check: "fds"` replays a frame as a file and counts open descriptors.
// Exit code 1 on any failure. FUZZ_DEBUG=1 prints each operation as it starts.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const CLI = join(DIST, "cli/main.js");
export const REGRESSIONS = join(ROOT, "fixtures/data/fuzz-regressions");
const WORKER_ROLE = "zarr-blosc2-fuzz-worker";
/**
 * A case (or CLI run) that has not answered after this long is a hang. Only a guard against a
 * true hang: slow cases are found by the regression notes' checks, never by the clock, since
 * these machines are shared and slow down at random.
 */
const HANG_MS = 30_000;

/**
 * In-process decodes refuse results and chunks above this (maxDecodedBytes); the CLI keeps its
 * default of 2 GiB.
 */
const MAX_DECODED = 64 * 1024 * 1024;
/**
 * Heap checks allow this much drift: dlmalloc hands out whole free chunks when the remainder
 * would be too small, so the few buffers C-Blosc2's reused context keeps can come out 8 or 16
 * bytes larger depending on the allocation history. A leak of a few bytes per case still
 * exceeds it over a 500-case window.
 */
const LEAK_SLACK = 256;
const LEAK_CASE_SLACK = 32;

async function loadLib() {
  const lib = await import(pathToFileURL(join(DIST, "index.js")).href);
  const frame = await import(pathToFileURL(join(DIST, "format/frame.js")).href);
  const msgpack = await import(pathToFileURL(join(DIST, "format/msgpack.js")).href);
  const wasm = await import(pathToFileURL(join(DIST, "decode/wasm.js")).href);
  return { lib, frame, msgpack, wasm };
}

// ------------------------------------------------------------------------------------------
// Seeded PRNG (sfc32 seeded through splitmix32): case i of seed s is rngFor(s, i).

function splitmix32(a) {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

export function rngFor(seed, index) {
  const sm = splitmix32((Math.imul(seed >>> 0, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) | 0);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 8; i++) next();
  const rng = {
    float: next,
    /** Integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    u32: () => Math.floor(next() * 4294967296) >>> 0,
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
  return rng;
}

// ------------------------------------------------------------------------------------------
// Corpus

function listFiles(dir, test) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, test));
    else if (test(p)) out.push(p);
  }
  return out.sort();
}

function readBytes(path) {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Chunk files, .b2nd frames, and the first and last chunk file of each b2nd Zarr store. */
export function loadCorpus() {
  const fx = join(ROOT, "fixtures/data");
  const chunks = listFiles(join(fx, "chunks"), (p) => p.endsWith(".b2"));
  const frames = listFiles(join(fx, "b2nd"), (p) => p.endsWith(".b2nd"));
  const zarr = [];
  const zdir = join(fx, "zarr");
  if (existsSync(zdir)) {
    for (const store of readdirSync(zdir).sort()) {
      const meta = join(zdir, store, "zarr.json");
      if (!existsSync(meta)) continue;
      const codecs = JSON.parse(readFileSync(meta, "utf8")).codecs ?? [];
      if (codecs.length !== 1 || codecs[0].name !== "b2nd") continue; // plain b2nd frames only
      const files = listFiles(join(zdir, store, "c"), () => true);
      if (files.length > 0) zarr.push(files[0]);
      if (files.length > 1) zarr.push(files[files.length - 1]);
    }
  }
  const entry = (kind) => (path) => ({ kind, path: relative(ROOT, path), bytes: readBytes(path) });
  return {
    chunks: chunks.map(entry("chunk")),
    frames: [...frames.map(entry("frame")), ...zarr.map(entry("frame"))],
  };
}

/**
 * Two ordinary chunks (compressed, no dictionary, not special) with different block sizes, the
 * second zstd: decoding them in turn resets the reused decompression context (see heap checks).
 */
export function probeChunks(corpus, L) {
  const plain = [];
  for (const e of corpus.chunks) {
    try {
      const i = L.lib.chunkInfo(e.bytes);
      if (i.special === "none" && !i.flags.memcpyed && !i.flags.dictionary && i.nblocks > 1) {
        plain.push({ bytes: e.bytes, info: i });
      }
    } catch {
      // not a probe
    }
  }
  const b = plain.find((p) => p.info.codec === "zstd");
  const a = plain.find((p) => p.info.blocksize !== b?.info.blocksize);
  if (!a || !b) throw new Error("fuzz: the corpus has no probe chunks for the heap checks");
  return [a.bytes, b.bytes];
}

// ------------------------------------------------------------------------------------------
// Frame structure (for targeted mutations), computed once per corpus frame

async function frameStructure(bytes, L) {
  try {
    const h = L.frame.parseFrameHeader(bytes, "corpus");
    const indexStart = L.frame.indexOffset(h);
    const tail = bytes.subarray(indexStart, h.frameLength);
    const trailerLen = L.frame.trailerLength(tail, h.frameLength, "corpus");
    const trailerStart = h.frameLength - trailerLen;
    const indexChunk = bytes.subarray(indexStart, trailerStart);
    const offsets = [];
    if (indexChunk.length >= 32) {
      const raw = await L.lib.decompress(indexChunk);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i + 8 <= raw.length; i += 8) offsets.push(view.getBigInt64(i, true));
    }
    // Positions of the msgpack numbers nbytes, cbytes, typesize, blocksize, chunksize.
    const r = new L.msgpack.MsgReader(bytes.subarray(0, h.headerLength), "corpus");
    r.pos = 1;
    for (let i = 0; i < 4; i++) r.read(); // magic, header_len, frame_len, flags
    const numbers = [];
    for (const name of ["nbytes", "cbytes", "typesize", "blocksize", "chunksize"]) {
      numbers.push({ name, at: r.pos });
      r.read();
    }
    const meta = h.metalayers.get("b2nd") ?? h.metalayers.get("caterva");
    const metaAt = meta ? meta.byteOffset - bytes.byteOffset : -1;
    const dataOffsets = [...new Set(offsets.filter((o) => o >= 0n).map(Number))].sort(
      (a, b) => a - b,
    );
    const extents = new Map(
      dataOffsets.map((o, i) => [
        o,
        (i + 1 < dataOffsets.length ? dataOffsets[i + 1] : h.cbytes) - o,
      ]),
    );
    return {
      headerLength: h.headerLength,
      frameLength: h.frameLength,
      cbytes: h.cbytes,
      indexStart,
      trailerStart,
      offsets,
      extents,
      numbers,
      meta: meta ? { at: metaAt, length: meta.length } : undefined,
    };
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------
// Mutations. Each returns new bytes and a short description.

const INTERESTING32 = [
  0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 33, 64, 255, 256, 4096, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7ffffff, 0x40000000, 0x7ffffffe, 0x7fffffff, -0x80000000, -2,
];

function int32Value(rng, orig, others) {
  switch (rng.int(0, 6)) {
    case 0:
      return rng.pick(INTERESTING32);
    case 1:
      return orig + rng.pick([-1, 1, -2, 2, -4, 4, -8, 8, -16, 16, -32, 32]);
    case 2:
      return orig * 2;
    case 3:
      return orig >> rng.int(1, 4);
    case 4:
      return rng.pick(others);
    case 5:
      return rng.u32() | 0;
    default:
      return rng.int(-64, 4096);
  }
}

function copyOf(b) {
  return new Uint8Array(b);
}

function bitflip(b, rng) {
  if (b.length === 0) return { bytes: b, what: "bitflip(empty)" };
  const out = copyOf(b);
  const n = rng.pick([1, 1, 1, 2, 4, 8]);
  // Half the time aim at the first 64 bytes, where the headers are.
  const span = rng.chance(0.5) ? Math.min(out.length, 64) : out.length;
  const at = [];
  for (let i = 0; i < n; i++) {
    const p = rng.int(0, span - 1);
    out[p] ^= 1 << rng.int(0, 7);
    at.push(p);
  }
  return { bytes: out, what: `bitflip@${at.join(",")}` };
}

function byteset(b, rng) {
  if (b.length === 0) return { bytes: b, what: "byteset(empty)" };
  const out = copyOf(b);
  const n = rng.pick([1, 1, 2, 4]);
  const span = rng.chance(0.5) ? Math.min(out.length, 64) : out.length;
  const at = rng.int(0, span - 1);
  const kind = rng.pick(["00", "ff", "rand"]);
  for (let i = at; i < Math.min(out.length, at + n); i++) {
    out[i] = kind === "00" ? 0 : kind === "ff" ? 0xff : rng.int(0, 255);
  }
  return { bytes: out, what: `byteset@${at}+${n}=${kind}` };
}

function truncate(b, rng) {
  const n = rng.pick([
    () => rng.int(0, Math.min(b.length, 40)),
    () => rng.int(0, b.length),
    () => Math.max(0, b.length - rng.int(1, 40)),
  ])();
  return { bytes: b.slice(0, n), what: `truncate@${n}` };
}

function extend(b, rng) {
  const n = rng.pick([1, 7, 32, 100, 1000]);
  const out = new Uint8Array(b.length + n);
  out.set(b);
  const kind = rng.pick(["00", "rand", "copy"]);
  for (let i = b.length; i < out.length; i++) {
    out[i] = kind === "00" ? 0 : kind === "rand" ? rng.int(0, 255) : b[i % Math.max(1, b.length)];
  }
  return { bytes: out, what: `extend+${n}=${kind}` };
}

/** Edits a field of the chunk header starting at `base`. */
function chunkField(b, rng, base = 0) {
  if (base + 16 > b.length) return bitflip(b, rng);
  const out = copyOf(b);
  const v = new DataView(out.buffer);
  const nbytes = v.getInt32(base + 4, true);
  const blocksize = v.getInt32(base + 8, true);
  const cbytes = v.getInt32(base + 12, true);
  const extended = base + 32 <= out.length && (out[base + 2] & 0x05) === 0x05;
  const nblocks =
    extended && blocksize > 0
      ? Math.min(Math.ceil(nbytes / blocksize), Math.floor((out.length - base - 32) / 4))
      : 0;
  const others = [nbytes, blocksize, cbytes, out.length - base, out.length - base + 1, 32, 16];
  const fields = [
    ["nbytes", 4],
    ["blocksize", 8],
    ["cbytes", 12],
  ];
  if (nblocks > 0) {
    const i = rng.int(0, nblocks - 1);
    fields.push([`bstart[${i}]`, 32 + 4 * i], [`bstart[${i}]`, 32 + 4 * i]);
  }
  if (rng.chance(0.25)) {
    // A byte field: version, versionlz, flags, typesize, filters, codec, metas, flags2/3.
    const byteFields = [
      ["version", 0],
      ["versionlz", 1],
      ["flags", 2],
      ["typesize", 3],
    ];
    if (extended) {
      for (let s = 0; s < 6; s++) byteFields.push([`filter${s}`, 16 + s], [`fmeta${s}`, 24 + s]);
      byteFields.push(["udcodec", 22], ["compcode_meta", 23], ["flags2", 30], ["blosc2flags", 31]);
    }
    const [name, off] = rng.pick(byteFields);
    const value = rng.pick([
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      0x10,
      0x20,
      0x35,
      0x80,
      0xff,
      rng.int(0, 255),
    ]);
    out[base + off] = value;
    return { bytes: out, what: `chunk@${base}.${name}=${value}` };
  }
  const [name, off] = rng.pick(fields);
  const value = int32Value(rng, v.getInt32(base + off, true), others);
  v.setInt32(base + off, value, true);
  return { bytes: out, what: `chunk@${base}.${name}=${value}` };
}

function frameField(b, st, rng) {
  const out = copyOf(b);
  const v = new DataView(out.buffer);
  const choice = rng.int(0, 4);
  if (choice === 0 && out.length >= 15) {
    const value = int32Value(rng, v.getInt32(11), [st.frameLength, st.indexStart, 87, 0]);
    v.setInt32(11, value);
    return { bytes: out, what: `frame.header_len=${value}` };
  }
  if (choice === 1 && out.length >= 24) {
    const orig = Number(v.getBigUint64(16));
    const value = rng.pick([
      0,
      orig - 1,
      orig + 1,
      orig - rng.int(1, 100),
      orig + rng.int(1, 100),
      st.indexStart,
      2 ** 53,
      2 ** 53 + 2,
      rng.u32(),
    ]);
    v.setBigUint64(16, BigInt(Math.max(0, value)));
    return { bytes: out, what: `frame.frame_len=${Math.max(0, value)}` };
  }
  if (choice === 2 && out.length >= 23 && out[out.length - 23] === 0xce) {
    const orig = v.getUint32(out.length - 22);
    const value =
      rng.pick([0, 1, 22, 23, 24, orig - 1, orig + 1, orig * 2, out.length, out.length + 1]) >>> 0;
    v.setUint32(out.length - 22, value);
    return { bytes: out, what: `frame.trailer_len=${value}` };
  }
  if (choice === 3 && st.numbers.length > 0) {
    // A header number (nbytes, cbytes, typesize, blocksize, chunksize), keeping its type.
    const { name, at } = rng.pick(st.numbers);
    const tag = out[at];
    const orig =
      tag === 0xd3
        ? Number(v.getBigInt64(at + 1))
        : tag === 0xd2
          ? v.getInt32(at + 1)
          : tag <= 0x7f
            ? tag
            : undefined;
    if (orig === undefined) return bitflip(b, rng);
    const value = int32Value(rng, orig, [st.cbytes, st.frameLength, 0]);
    if (tag === 0xd3) v.setBigInt64(at + 1, BigInt(value));
    else if (tag === 0xd2) v.setInt32(at + 1, value);
    else out[at] = value & 0x7f;
    return { bytes: out, what: `frame.${name}=${value}` };
  }
  if (st.meta && st.meta.length > 0) {
    // The b2nd metalayer: version, ndim, shape, chunk shape, block shape, dtype.
    const p = st.meta.at + rng.int(0, st.meta.length - 1);
    const value = rng.chance(0.5)
      ? rng.pick([0, 1, 2, 0x7f, 0x80, 0xd2, 0xd3, 0xff])
      : out[p] ^ (1 << rng.int(0, 7));
    out[p] = value;
    return { bytes: out, what: `frame.b2nd_meta@${p - st.meta.at}=${value}` };
  }
  return bitflip(b, rng);
}

/** Replaces the chunk index with `offsets` (recompressed) and fixes frame_len. */
async function withIndex(b, st, offsets, L, clevel) {
  const raw = new BigInt64Array(offsets);
  const index = await L.lib.compress(new Uint8Array(raw.buffer), {
    typesize: 8,
    clevel,
    codec: "zstd",
  });
  const trailer = b.subarray(st.trailerStart, st.frameLength);
  const out = new Uint8Array(st.indexStart + index.length + trailer.length);
  out.set(b.subarray(0, st.indexStart));
  out.set(index, st.indexStart);
  out.set(trailer, st.indexStart + index.length);
  new DataView(out.buffer).setBigUint64(16, BigInt(out.length));
  return out;
}

async function indexEdit(b, st, rng, L) {
  if (st.offsets.length === 0) return frameField(b, st, rng);
  const offsets = st.offsets.slice();
  const i = rng.int(0, offsets.length - 1);
  const orig = offsets[i];
  const data = offsets.filter((o) => o >= 0n);
  // A special chunk: negative, its kind in the low bits of the top byte (0x81 zeros, ...).
  const special = (code) => BigInt(code) << 56n;
  const value = rng.pick([
    () => (data.length > 0 ? rng.pick(data) : 0n),
    () => orig + 1n,
    () => orig - 1n,
    () => orig + 32n,
    () => 0n,
    () => BigInt(st.cbytes),
    () => BigInt(st.cbytes - 1),
    () => BigInt(st.cbytes - 32),
    () => 1n << 40n,
    () => 2n ** 53n + 1n,
    () => special(rng.pick([0x81, 0x82, 0x84, 0x83, 0x80, 0x87])),
    () => BigInt(rng.u32()),
  ])();
  offsets[i] = BigInt.asIntN(64, value);
  const clevel = rng.pick([0, 5]);
  return {
    bytes: await withIndex(b, st, offsets, L, clevel),
    what: `index[${i}]=${offsets[i]}(clevel ${clevel})`,
  };
}

async function swapChunks(b, st, rng, L) {
  const data = st.offsets.map((o, i) => [i, o]).filter(([, o]) => o >= 0n);
  if (data.length < 2) return indexEdit(b, st, rng, L);
  const [i, oi] = rng.pick(data);
  let [j, oj] = rng.pick(data);
  if (j === i) [j, oj] = data[(data.findIndex(([k]) => k === i) + 1) % data.length];
  if (rng.chance(0.5)) {
    // Swap the index entries: chunk i reads chunk j's bytes and the other way round.
    const offsets = st.offsets.slice();
    offsets[i] = oj;
    offsets[j] = oi;
    return { bytes: await withIndex(b, st, offsets, L, 5), what: `swap-index(${i},${j})` };
  }
  // Swap the stored bytes, index unchanged (offsets misalign when the sizes differ).
  const a = Math.min(Number(oi), Number(oj));
  const c = Math.max(Number(oi), Number(oj));
  const la = st.extents.get(a);
  const lc = st.extents.get(c);
  if (la === undefined || lc === undefined || a === c) return indexEdit(b, st, rng, L);
  const base = st.headerLength;
  const out = copyOf(b);
  const A = b.subarray(base + a, base + a + la);
  const C = b.subarray(base + c, base + c + lc);
  const mid = b.subarray(base + a + la, base + c);
  out.set(C, base + a);
  out.set(mid, base + a + lc);
  out.set(A, base + a + lc + mid.length);
  return { bytes: out, what: `swap-bytes(${i},${j})` };
}

const CHUNK_MUTATORS = ["bitflip", "byteset", "truncate", "extend", "field", "field"];
const FRAME_MUTATORS = [
  "bitflip",
  "byteset",
  "truncate",
  "extend",
  "frame-field",
  "frame-field",
  "chunk-field",
  "chunk-field",
  "index",
  "swap",
];

async function mutate(entry, st, rng, L) {
  let bytes = entry.bytes;
  const what = [];
  const n = rng.pick([1, 1, 1, 1, 2, 3]);
  for (let k = 0; k < n; k++) {
    // Structural edits only on the intact structure (first mutation).
    const structural = k === 0 && st !== undefined;
    const kind =
      entry.kind === "chunk"
        ? rng.pick(CHUNK_MUTATORS)
        : rng.pick(structural ? FRAME_MUTATORS : ["bitflip", "byteset", "truncate", "extend"]);
    let m;
    if (kind === "bitflip") m = bitflip(bytes, rng);
    else if (kind === "byteset") m = byteset(bytes, rng);
    else if (kind === "truncate") m = truncate(bytes, rng);
    else if (kind === "extend") m = extend(bytes, rng);
    else if (kind === "field") m = chunkField(bytes, rng, 0);
    else if (kind === "frame-field") m = frameField(bytes, st, rng);
    else if (kind === "chunk-field") {
      const data = [...st.extents.keys()];
      m =
        data.length > 0
          ? chunkField(bytes, rng, st.headerLength + rng.pick(data))
          : frameField(bytes, st, rng);
    } else if (kind === "index") m = await indexEdit(bytes, st, rng, L);
    else m = await swapChunks(bytes, st, rng, L);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { bytes, mutations: what };
}

// ------------------------------------------------------------------------------------------
// Selections

function pyCount(length, s) {
  if (s === null) return length;
  const step = s.step ?? 1;
  let lo;
  let hi;
  if (step > 0) {
    lo =
      s.start === null
        ? 0
        : s.start < 0
          ? Math.max(0, s.start + length)
          : Math.min(s.start, length);
    hi =
      s.stop === null
        ? length
        : s.stop < 0
          ? Math.max(0, s.stop + length)
          : Math.min(s.stop, length);
    return hi > lo ? Math.ceil((hi - lo) / step) : 0;
  }
  lo =
    s.start === null
      ? length - 1
      : s.start < 0
        ? Math.max(-1, s.start + length)
        : Math.min(s.start, length - 1);
  hi =
    s.stop === null
      ? -1
      : s.stop < 0
        ? Math.max(-1, s.stop + length)
        : Math.min(s.stop, length - 1);
  return lo > hi ? Math.ceil((lo - hi) / -step) : 0;
}

/** The result shape a selection (entries: null, integer or slice) must give. */
function expectedShape(selection, shape) {
  const out = [];
  shape.forEach((n, d) => {
    const s = selection?.[d] ?? null;
    if (typeof s === "number") return;
    out.push(pyCount(n, s));
  });
  return out;
}

function randomSelection(shape, rng) {
  return shape.map((n) => {
    const r = rng.float();
    if (r < 0.2) return null;
    if (r < 0.45 && n > 0) return rng.int(-n, n - 1);
    const bound = () => (rng.chance(0.3) ? null : rng.int(-n - 2, n + 2));
    const step = rng.chance(0.3) ? null : rng.pick([1, 2, 3, 7, -1, -2, -5]);
    return { start: bound(), stop: bound(), step };
  });
}

/** Selections read from every opened frame: all, first/last points, random ones, reversed. */
function selectionsFor(shape, rng) {
  const out = [null];
  if (shape.every((n) => n > 0)) {
    out.push(shape.map(() => 0));
    out.push(shape.map(() => -1));
  }
  out.push(randomSelection(shape, rng), randomSelection(shape, rng));
  out.push(shape.map(() => ({ start: null, stop: null, step: -1 })));
  return out;
}

/** A selection as CLI (NumPy) text, e.g. "3, ::-2, 1:5". */
function selectionText(selection, rng) {
  if (selection === null) return "";
  const parts = selection.map((s) => {
    if (s === null) return ":";
    if (typeof s === "number") return String(s);
    const f = (x) => (x === null ? "" : String(x));
    return s.step === null ? `${f(s.start)}:${f(s.stop)}` : `${f(s.start)}:${f(s.stop)}:${s.step}`;
  });
  // Drop trailing whole dimensions, or write them as "...", now and then.
  let end = parts.length;
  while (end > 0 && parts[end - 1] === ":" && rng.chance(0.5)) end--;
  const kept = parts.slice(0, end);
  if (end < parts.length && rng.chance(0.5)) kept.push("...");
  return kept.join(", ");
}

// ------------------------------------------------------------------------------------------
// Worker side: run one case's targets and classify

function describe(err) {
  if (err instanceof Error) {
    return {
      name: err.name,
      message: err.message,
      stack: (err.stack ?? "").split("\n").slice(0, 8).join("\n"),
    };
  }
  return { name: typeof err, message: String(err), stack: "" };
}

function classify(err, L) {
  const d = describe(err);
  if (err instanceof L.lib.WasmTrapError) return { outcome: "trap", ...d };
  if (err instanceof L.lib.ZarrBlosc2Error) return { outcome: "typed", ...d };
  return { outcome: "crash", ...d };
}

class SizeMismatch extends Error {
  name = "SizeMismatch";
}

const prod = (xs) => xs.reduce((a, b) => a * b, 1);

/**
 * Runs every target on one input. Returns the first failure, or the first typed error, or ok.
 * `only` (from a regression note) limits a chunk case to some operations and may fix their
 * arguments: { ops: ["decompressBlocks"], blocks: [0], items: [start, n] }.
 */
async function runTargets(kind, bytes, caseSeed, L, only) {
  const rng = rngFor(caseSeed, 0x5eed);
  const results = [];
  const attempt = async (op, fn) => {
    if (only?.ops && !only.ops.includes(op.split("(")[0])) return;
    // Tell the main thread first: if this operation never returns, the hang names it.
    parentPort?.postMessage({ type: "op", op });
    if (process.env.FUZZ_DEBUG) writeSync(2, `fuzz: op ${op}\n`);
    try {
      await fn();
      results.push({ op, outcome: "ok" });
    } catch (err) {
      results.push({ op, ...classify(err, L) });
    }
  };
  const info = { shape: undefined };
  // Decode like a careful caller of untrusted bytes: with a size limit (a 32-byte special
  // chunk may legitimately claim 2 GiB). A note's `only.maxDecodedBytes: null` keeps the
  // default. (Builds without the option ignore the extra argument.)
  const limits =
    only?.maxDecodedBytes === null ? {} : { maxDecodedBytes: only?.maxDecodedBytes ?? MAX_DECODED };
  if (kind === "chunk") {
    // The header as chunkInfo reads it: the sizes the decoders' results must have (also when
    // `only` skips the chunkInfo target itself).
    let ci;
    try {
      ci = L.lib.chunkInfo(bytes);
    } catch {
      ci = undefined;
    }
    await attempt("chunkInfo", () => L.lib.chunkInfo(bytes));
    await attempt("decompress", async () => {
      const out = await L.lib.decompress(bytes, limits);
      if (out.length !== ci?.nbytes) {
        throw new SizeMismatch(`decompress gave ${out.length} bytes, header says ${ci?.nbytes}`);
      }
    });
    const typesize = ci?.typesize ?? rng.int(1, 8);
    const total = ci ? Math.floor(ci.nbytes / ci.typesize) : rng.int(0, 1000);
    let start = rng.int(0, total);
    let n = rng.int(0, total - start);
    if (rng.chance(0.05))
      [start, n] = rng.pick([
        [-1, 1],
        [total, 1],
        [0, total + 1],
      ]);
    if (only?.items) [start, n] = only.items;
    await attempt(`decompressItems(${start},${n})`, async () => {
      const out = await L.lib.decompressItems(bytes, start, n, limits);
      if (out.length !== n * typesize) {
        throw new SizeMismatch(`decompressItems gave ${out.length} bytes for ${n} items`);
      }
    });
    const nblocks = ci?.nblocks ?? rng.int(0, 16);
    const blocks = [];
    const count = rng.int(0, Math.min(nblocks, 6));
    for (let i = 0; i < count; i++) blocks.push(rng.int(0, nblocks - 1));
    if (rng.chance(0.05)) blocks.push(rng.pick([-1, nblocks, 0.5]));
    if (only?.blocks) blocks.splice(0, blocks.length, ...only.blocks);
    await attempt(`decompressBlocks([${blocks}])`, async () => {
      const out = await L.lib.decompressBlocks(bytes, blocks, limits);
      if (out.length !== ci?.nbytes) {
        throw new SizeMismatch(
          `decompressBlocks gave ${out.length} bytes, header says ${ci?.nbytes}`,
        );
      }
    });
  } else {
    let arr;
    const mergeGap = rng.pick([0, 16, 65536]);
    await attempt(`openB2nd(mergeGap ${mergeGap})`, async () => {
      arr = await L.lib.openB2nd(bytes.slice(), {
        mergeGap,
        ...limits,
        concurrency: rng.int(1, 4),
      });
    });
    if (arr) {
      info.shape = arr.shape.slice();
      info.dtype = arr.dtype;
      for (const sel of selectionsFor(arr.shape, rng)) {
        await attempt(`get(${JSON.stringify(sel)})`, async () => {
          const r = await arr.get(sel);
          const want = expectedShape(sel, arr.shape);
          const bytesWanted = prod(want) * arr.dtypeInfo.itemsize;
          if (
            JSON.stringify(r.shape) !== JSON.stringify(want) ||
            r.data.byteLength !== bytesWanted
          ) {
            throw new SizeMismatch(
              `get gave shape [${r.shape}] and ${r.data.byteLength} bytes; expected [${want}] and ${bytesWanted}`,
            );
          }
        });
      }
    }
  }
  const rank = { crash: 3, trap: 3, typed: 1, ok: 0 };
  let worst = { outcome: "ok" };
  for (const r of results) if (rank[r.outcome] > rank[worst.outcome]) worst = r;
  return { ...worst, ops: results.length, info };
}

async function settle() {
  // Let background work of a failed get (its other chunk workers) finish.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Deliberate misbehaviour, for testing the fuzzer itself (runFuzz's `inject` option): a wasm
 * allocation never freed, an exception of no library type, or an endless loop.
 */
async function inject(kind, L) {
  if (kind === "leak") (await L.wasm.blosc2Wasm()).exports.malloc(4096);
  else if (kind === "crash") throw new TypeError("injected crash");
  else if (kind === "hang") for (;;);
}

/**
 * Opens a b2nd file by path, reads everything (expected to fail), closes the array, waits a
 * little and compares the process's open file descriptors (Linux /proc/self/fd) with before:
 * a read still running after get() rejected must not reopen the closed file.
 */
async function fileHandleCheck(path, L) {
  const fdDir = "/proc/self/fd";
  if (!existsSync(fdDir)) return { outcome: "ok", message: "no /proc/self/fd: not checked" };
  const count = () => readdirSync(fdDir).length;
  await settle();
  const before = count();
  let error;
  try {
    const arr = await L.lib.openB2nd(path);
    try {
      await arr.get();
    } catch (err) {
      error = describe(err);
    } finally {
      await arr.close();
    }
  } catch (err) {
    error = describe(err);
  }
  await new Promise((r) => setTimeout(r, 300));
  const after = count();
  if (after > before) {
    return {
      outcome: "leak",
      name: "FileHandleLeak",
      message: `${after - before} file descriptor(s) open after get() failed (${error?.name}: ${error?.message}) and close() resolved`,
      op: "openB2nd(path).get()",
      stack: "",
    };
  }
  return { outcome: error ? "typed" : "ok", ...error };
}

async function workerMain() {
  const L = await loadLib();
  let wasm = await L.wasm.blosc2Wasm();
  parentPort.on("message", async (msg) => {
    if (msg.type === "case") {
      let r;
      try {
        if (msg.inject) await inject(msg.inject, L);
        r = await runTargets(msg.kind, msg.bytes, msg.caseSeed, L, msg.only);
      } catch (err) {
        r = { op: "inject", ...classify(err, L) };
      }
      await settle();
      parentPort.postMessage({ type: "result", id: msg.id, ...r });
    } else if (msg.type === "fds") {
      parentPort.postMessage({ type: "fds", id: msg.id, ...(await fileHandleCheck(msg.path, L)) });
    } else if (msg.type === "heap") {
      await settle();
      // C-Blosc2's reused decompression context keeps buffers sized by the last chunks it
      // decoded; decoding two fixed chunks of different block sizes rebuilds it the same way
      // every time, so the heap in use is comparable between checks.
      for (const probe of workerData.probes) await L.lib.decompress(probe);
      const now = await L.wasm.blosc2Wasm();
      const replaced = now !== wasm;
      wasm = now;
      parentPort.postMessage({
        type: "heap",
        id: msg.id,
        inUse: now.heapInUse(),
        size: now.heapSize(),
        replaced,
      });
    }
  });
  parentPort.postMessage({ type: "ready" });
}

// ------------------------------------------------------------------------------------------
// Main side: the case runner (worker with timeouts), CLI checks, regressions

class CaseRunner {
  constructor(timeoutMs, probes) {
    this.timeoutMs = timeoutMs;
    this.probes = probes;
    this.worker = undefined;
    this.nextId = 1;
    this.pending = undefined;
    this.restarts = 0;
    this.heapRestarts = 0;
  }

  async start() {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { role: WORKER_ROLE, probes: this.probes },
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
      stderr: true,
    });
    worker.stderr.on("data", (d) => {
      if (process.env.FUZZ_DEBUG) process.stderr.write(d);
    }); // C-Blosc2 traces (BLOSC_TRACE) are not failures
    this.worker = worker;
    worker.on("message", (msg) => {
      if (msg.type === "ready") this.ready?.();
      else if (msg.type === "op") {
        if (this.pending) this.pending.op = msg.op;
      } else if (this.pending && msg.id === this.pending.id) {
        const p = this.pending;
        this.pending = undefined;
        clearTimeout(p.timer);
        p.resolve(msg);
      }
    });
    let started = false;
    const fail = (what) => {
      if (!started) this.notReady?.(new Error(`fuzz: the worker did not start: ${what}`));
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.pending) {
        const p = this.pending;
        this.pending = undefined;
        clearTimeout(p.timer);
        p.resolve({
          type: "died",
          outcome: "crash",
          name: "WorkerDied",
          message: what,
          op: p.op,
          stack: "",
        });
      }
    };
    worker.on("error", (err) => fail(`worker error: ${err?.stack ?? err}`));
    worker.on("exit", (code) => fail(`worker exited with code ${code}`));
    // A worker that cannot load dist/ (missing, or being rebuilt) fails the run, not hangs it.
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.terminate();
        reject(new Error("fuzz: the worker did not start within 60 s"));
      }, 60_000);
      this.ready = () => {
        started = true;
        clearTimeout(timer);
        resolve();
      };
      this.notReady = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });
  }

  async request(msg, transfer = []) {
    if (!this.worker) {
      this.restarts++;
      await this.start();
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        const op = this.pending.op;
        this.pending = undefined;
        const w = this.worker;
        this.worker = undefined;
        w?.terminate();
        resolve({
          type: "timeout",
          outcome: "hang",
          name: "Timeout",
          message: `no answer in ${this.timeoutMs} ms${op ? ` (in ${op})` : ""}`,
          op,
          stack: "",
        });
      }, this.timeoutMs);
      this.pending = { id, resolve, timer };
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  runCase(kind, bytes, caseSeed, extra = {}) {
    const copy = bytes.slice();
    return this.request({ type: "case", kind, bytes: copy, caseSeed, ...extra }, [copy.buffer]);
  }

  /** A fresh worker (clean wasm heap) for the next request. */
  async restart() {
    await this.stop();
    this.restarts++;
    await this.start();
  }

  async heap() {
    const r = await this.request({ type: "heap" });
    r.restarted = this.restarts !== this.heapRestarts;
    this.heapRestarts = this.restarts;
    return r;
  }

  async stop() {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

function runProcess(args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function parseNpy(bytes) {
  if (bytes.length < 10 || bytes[0] !== 0x93) return undefined;
  const hlen = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + hlen));
  const descr = /'descr': '([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) return undefined;
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  return { descr, shape, dataBytes: bytes.length - 10 - hlen };
}

/** One CLI check of a frame: `slice` with a selection, then `info`. Returns a failure or undefined. */
async function cliCheck(bytes, dir, tag, shape, rng, timeoutMs) {
  const input = join(dir, `${tag}.b2nd`);
  const out = join(dir, `${tag}.npy`);
  writeFileSync(input, bytes);
  const sel = shape ? randomSelection(shape, rng) : null;
  const text = shape
    ? selectionText(rng.chance(0.2) ? null : sel, rng)
    : rng.pick(["", "0", "::2", "-1, :"]);
  const fullSel = text === "" ? null : sel;
  const runs = [
    { args: ["slice", input, text, "--out", out], slice: true },
    { args: ["info", input], slice: false },
  ];
  const results = [];
  try {
    for (const run of runs) {
      rmSync(out, { force: true });
      const r = await runProcess(run.args, timeoutMs);
      const argv = run.args.map((a) => a.replace(dir, "<tmp>"));
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      const fail = (message, outcome = "crash") => ({
        outcome,
        name: "CliFailure",
        message: `${argv.join(" ")}: ${message}`,
        stack: r.stderr.slice(0, 2000),
        argv,
      });
      if (r.timedOut) return { failure: fail(`no exit in ${timeoutMs} ms`, "hang") };
      if (r.code === 1) {
        if (lines.length !== 1 || !lines[0].startsWith("zarr-blosc2: ")) {
          return {
            failure: fail(
              `exit 1 with ${lines.length} stderr lines: ${JSON.stringify(r.stderr.slice(0, 300))}`,
            ),
          };
        }
        if (/\n\s+at /.test(r.stderr)) return { failure: fail("stack trace on stderr") };
        results.push("error");
        continue;
      }
      if (r.code !== 0) {
        return {
          failure: fail(
            `exit code ${r.code}${r.signal ? ` (signal ${r.signal})` : ""}: ${JSON.stringify(r.stderr.slice(0, 300))}`,
          ),
        };
      }
      if (lines.length > 0)
        return { failure: fail(`exit 0 with stderr ${JSON.stringify(r.stderr.slice(0, 300))}`) };
      if (run.slice) {
        const npy = existsSync(out) ? parseNpy(readBytes(out)) : undefined;
        if (!npy) return { failure: fail("exit 0 without a readable .npy") };
        const itemsize = Number(/\d+$/.exec(npy.descr)?.[0] ?? Number.NaN);
        if (npy.dataBytes !== prod(npy.shape) * itemsize) {
          return {
            failure: fail(
              `.npy holds ${npy.dataBytes} data bytes for shape (${npy.shape}) of ${npy.descr}`,
            ),
          };
        }
        if (shape) {
          const want = expectedShape(fullSel, shape);
          if (JSON.stringify(want) !== JSON.stringify(npy.shape)) {
            return { failure: fail(`.npy shape (${npy.shape}), expected (${want}) for "${text}"`) };
          }
        }
      } else if (r.stdout.length === 0) return { failure: fail("info printed nothing") };
      results.push("ok");
    }
  } finally {
    rmSync(input, { force: true });
    rmSync(out, { force: true });
  }
  return { results, text };
}

function saveRegression(dir, bytes, note) {
  mkdirSync(dir, { recursive: true });
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const ext = note.target === "chunk" ? "b2" : "b2nd";
  const file = join(dir, `${hash}.${ext}`);
  const notePath = join(dir, `${hash}.json`);
  // An input already saved keeps its note (it may have been triaged by hand).
  if (existsSync(file) && existsSync(notePath)) return file;
  writeFileSync(file, bytes);
  writeFileSync(notePath, `${JSON.stringify(note, null, 2)}\n`);
  return file;
}

/**
 * Shrinks a same-length mutated input towards the original (delta debugging over the
 * differing bytes) while `stillFails` holds. Returns the smallest failing variant found.
 */
async function minimize(orig, bytes, stillFails) {
  if (orig.length !== bytes.length) return bytes;
  let diff = [];
  for (let i = 0; i < bytes.length; i++) if (orig[i] !== bytes[i]) diff.push(i);
  const build = (keep) => {
    const out = orig.slice();
    for (const i of keep) out[i] = bytes[i];
    return out;
  };
  let n = 2;
  while (diff.length >= 2) {
    const size = Math.ceil(diff.length / n);
    let reduced = false;
    for (let s = 0; s < diff.length; s += size) {
      const complement = [...diff.slice(0, s), ...diff.slice(s + size)];
      if (complement.length > 0 && (await stillFails(build(complement)))) {
        diff = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= diff.length) break;
      n = Math.min(diff.length, n * 2);
    }
  }
  return build(diff);
}

/** Runs one regression file (bytes + its .json note) and returns the worker's verdict. */
export async function replayRegression(path, { timeoutMs = HANG_MS } = {}) {
  const note = JSON.parse(readFileSync(path.replace(/\.(b2|b2nd)$/, ".json"), "utf8"));
  const bytes = readBytes(path);
  const runner = new CaseRunner(timeoutMs, probeChunks(loadCorpus(), await loadLib()));
  try {
    if (note.check === "fds") {
      const r = await runner.request({ type: "fds", path });
      if (r.outcome !== "ok" && r.outcome !== "typed") return r;
      // The file must still decode as typed errors or values in memory, too.
      return await runner.runCase("frame", bytes, note.caseSeed);
    }
    if (note.target === "cli") {
      const dir = await mkdtemp(join(tmpdir(), "zb-fuzz-"));
      try {
        const r = await cliCheck(
          bytes,
          dir,
          "replay",
          note.shape,
          rngFor(note.caseSeed, 0xc11),
          timeoutMs,
        );
        return r.failure ?? { outcome: "ok", results: r.results };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const extra = note.only ? { only: note.only } : {};
    if (note.outcome === "leak") {
      await runner.runCase(note.target, bytes, note.caseSeed, extra); // warm-up
      const h0 = await runner.heap();
      let r;
      for (let i = 0; i < 5; i++)
        r = await runner.runCase(note.target, bytes, note.caseSeed, extra);
      const h1 = await runner.heap();
      if (h1.inUse - h0.inUse > LEAK_CASE_SLACK) {
        return {
          outcome: "leak",
          name: "Leak",
          message: `5 runs took the wasm heap in use from ${h0.inUse} to ${h1.inUse} bytes`,
          stack: "",
        };
      }
      return r;
    }
    return await runner.runCase(note.target, bytes, note.caseSeed, extra);
  } finally {
    await runner.stop();
  }
}

/**
 * Runs the fuzzer for `seconds` (or exactly `cases` cases) and resolves to the summary.
 * `cli` runs every `cliEvery`-th case (a frame) through the CLI as well.
 */
export async function runFuzz({
  seconds = 60,
  seed = 1,
  cli = true,
  cliEvery = 50,
  cases: maxCases = Number.POSITIVE_INFINITY,
  timeoutMs = HANG_MS,
  leakEvery = 500,
  saveDir = REGRESSIONS,
  log = (line) => process.stderr.write(`${line}\n`),
  inject: injected,
} = {}) {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  if (!existsSync(join(DIST, "index.js"))) {
    throw new Error("dist/ is missing: build it with `npx tsc -p tsconfig.build.json`");
  }
  const L = await loadLib();
  const corpus = loadCorpus();
  const structures = new Map();
  for (const f of corpus.frames) structures.set(f.path, await frameStructure(f.bytes, L));
  const runner = new CaseRunner(timeoutMs, probeChunks(corpus, L));
  const tmp = await mkdtemp(join(tmpdir(), "zb-fuzz-"));
  const summary = {
    seed,
    cases: 0,
    ok: 0,
    typed: {},
    crashes: 0,
    traps: 0,
    hangs: 0,
    leaks: 0,
    cli: { runs: 0, ok: 0, errors: 0, failures: 0 },
    seconds: 0,
    corpus: { chunks: corpus.chunks.length, frames: corpus.frames.length },
    warmup: { ok: 0, typed: 0, failures: 0 },
    workerRestarts: 0,
    failures: [],
  };
  const record = async (c, verdict, extra = {}) => {
    const note = {
      target: extra.target ?? c.kind,
      outcome: verdict.outcome,
      corpus: c.path,
      mutations: c.mutations,
      error: `${verdict.name}: ${verdict.message}`,
      op: verdict.op,
      stack: verdict.stack,
      seed,
      case: c.index,
      caseSeed: c.caseSeed,
      ...extra.note,
    };
    let bytes = c.bytes;
    if (extra.minimize !== false && verdict.outcome !== "hang" && c.original) {
      // Keep the failure's class and error name while shrinking.
      const same = async (candidate) => {
        const r = await runner.runCase(c.kind, candidate, c.caseSeed);
        return (
          r.outcome === verdict.outcome &&
          r.name === verdict.name &&
          r.op?.split("(")[0] === verdict.op?.split("(")[0]
        );
      };
      try {
        bytes = await minimize(c.original, c.bytes, same);
        if (bytes !== c.bytes) {
          note.minimizedFrom = c.mutations;
          note.diff = [];
          for (let i = 0; i < bytes.length && note.diff.length < 64; i++) {
            if (bytes[i] !== c.original[i]) note.diff.push([i, c.original[i], bytes[i]]);
          }
        }
      } catch {
        bytes = c.bytes;
      }
    }
    const file = saveRegression(saveDir, bytes, note);
    summary.failures.push({
      file: relative(ROOT, file),
      outcome: note.outcome,
      target: note.target,
      error: note.error,
    });
    log(
      `fuzz: ${note.outcome} (${note.target}, case ${c.index}): ${note.error} -> ${relative(ROOT, file)}`,
    );
  };

  /** Builds case i deterministically from the seed. */
  const makeCase = async (index) => {
    const caseSeed = rngFor(seed, index).u32();
    const rng = rngFor(caseSeed, 1);
    const forceFrame = cli && index % cliEvery === cliEvery - 1;
    const r = rng.float();
    const kind = forceFrame || r >= 0.5 || corpus.chunks.length === 0 ? "frame" : "chunk";
    const entry = rng.pick(kind === "chunk" ? corpus.chunks : corpus.frames);
    const st = kind === "frame" ? structures.get(entry.path) : undefined;
    const m = await mutate(entry, st, rng, L);
    return {
      index,
      caseSeed,
      kind,
      path: entry.path,
      original: entry.bytes,
      bytes: m.bytes,
      mutations: m.mutations,
      cli: forceFrame,
    };
  };

  // Self-test: misbehave on purpose every `injected.every` cases.
  const extraFor = (index) =>
    injected && index % injected.every === injected.every - 1 ? { inject: injected.kind } : {};

  let baseline;
  const checkHeap = async (fromCase, toCase) => {
    const h = await runner.heap();
    if (h.outcome) return; // the worker hung or died answering: counted elsewhere
    if (baseline === undefined || h.replaced || h.restarted) {
      baseline = h.inUse;
      return;
    }
    if (h.inUse > baseline + LEAK_SLACK) {
      summary.leaks++;
      const note = { leakedBytes: h.inUse - baseline, window: [fromCase, toCase] };
      log(
        `fuzz: leak: wasm heap in use ${baseline} -> ${h.inUse} over cases ${fromCase}..${toCase}`,
      );
      // Find the leaking cases: replay the window one case at a time, keep the worst three.
      const grown = [];
      for (let i = fromCase; i <= toCase; i++) {
        const c = await makeCase(i);
        const a = await runner.heap();
        await runner.runCase(c.kind, c.bytes, c.caseSeed, extraFor(i));
        const b = await runner.heap();
        if (!a.outcome && !b.outcome && !b.restarted && b.inUse - a.inUse > LEAK_CASE_SLACK) {
          grown.push({ c, delta: b.inUse - a.inUse });
        }
      }
      grown.sort((x, y) => y.delta - x.delta);
      for (const { c, delta } of grown.slice(0, 3)) {
        await record(
          c,
          {
            outcome: "leak",
            name: "Leak",
            message: `wasm heap in use grew by ${delta} bytes`,
            stack: "",
          },
          { minimize: false, note },
        );
      }
      if (grown.length === 0) log("fuzz: leak: no single case of the window grows the heap alone");
      await runner.restart();
      baseline = undefined;
    }
  };

  try {
    await runner.start();
    // Warm-up: every corpus input once, unmutated, so one-time allocations happen first.
    for (const entry of [...corpus.chunks, ...corpus.frames]) {
      const r = await runner.runCase(entry.kind, entry.bytes, 0);
      if (r.outcome === "ok") summary.warmup.ok++;
      else if (r.outcome === "typed") summary.warmup.typed++;
      else {
        summary.warmup.failures++;
        log(`fuzz: unmutated ${entry.path}: ${r.outcome} ${r.name}: ${r.message}`);
      }
    }
    await checkHeap(0, 0);
    let windowStart = 0;
    const cliTasks = [];
    for (let index = 0; index < maxCases && elapsed() < seconds; index++) {
      const c = await makeCase(index);
      const v = await runner.runCase(c.kind, c.bytes, c.caseSeed, extraFor(index));
      summary.cases++;
      if (v.outcome === "ok") summary.ok++;
      else if (v.outcome === "typed") summary.typed[v.name] = (summary.typed[v.name] ?? 0) + 1;
      else {
        if (v.outcome === "trap") summary.traps++;
        else if (v.outcome === "hang") summary.hangs++;
        else summary.crashes++;
        await record(c, v);
        // Start over with a clean heap: a failure may leave the wasm heap in any state.
        if (runner.worker) await runner.restart();
        baseline = undefined;
      }
      if (c.cli) {
        // At most two CLI checks in flight beside the in-process cases.
        while (cliTasks.length >= 2) await cliTasks.shift();
        const shape = v.info?.shape;
        const crng = rngFor(c.caseSeed, 0xc11);
        cliTasks.push(
          cliCheck(c.bytes, tmp, `case${index}`, shape, crng, timeoutMs).then(async (r) => {
            summary.cli.runs++;
            if (r.failure) {
              summary.cli.failures++;
              if (r.failure.outcome === "hang") summary.hangs++;
              else summary.crashes++;
              await record(c, r.failure, {
                target: "cli",
                minimize: false,
                note: { argv: r.failure.argv, shape },
              });
            } else {
              for (const x of r.results) {
                if (x === "ok") summary.cli.ok++;
                else summary.cli.errors++;
              }
            }
          }),
        );
      }
      if (index - windowStart + 1 >= leakEvery) {
        await checkHeap(windowStart, index);
        windowStart = index + 1;
      }
    }
    await Promise.all(cliTasks);
    if (summary.cases > windowStart) await checkHeap(windowStart, summary.cases - 1);
  } finally {
    summary.workerRestarts = runner.restarts;
    await runner.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  summary.seconds = Math.round(elapsed() * 10) / 10;
  return summary;
}

/** True when the summary has no crash, trap, hang or leak. */
export function clean(summary) {
  return summary.crashes === 0 && summary.traps === 0 && summary.hangs === 0 && summary.leaks === 0;
}

function parseArgs(argv) {
  const opts = { seconds: 60, seed: 1, cli: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--seconds") opts.seconds = Number(value());
    else if (a === "--seed") opts.seed = Number(value()) >>> 0;
    else if (a === "--cases") opts.cases = Number(value());
    else if (a === "--cli-every") opts.cliEvery = Number(value());
    else if (a === "--no-cli") opts.cli = false;
    else if (a === "--timeout") opts.timeoutMs = Number(value());
    else if (a === "--save-dir") opts.saveDir = value();
    else if (a === "--replay") opts.replay = value();
    else if (a === "--help" || a === "-h") opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

async function cliMain() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`fuzz: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(
      "usage: node scripts/fuzz.mjs [--seconds N] [--seed S] [--cases N] [--cli-every N] [--no-cli] [--timeout MS] [--save-dir DIR]\n       node scripts/fuzz.mjs --replay <regression file>",
    );
    return;
  }
  if (opts.replay) {
    let r;
    try {
      r = await replayRegression(opts.replay);
    } catch (err) {
      console.error(`fuzz: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    console.log(JSON.stringify(r, null, 1));
    process.exitCode = r.outcome === "ok" || r.outcome === "typed" ? 0 : 1;
    return;
  }
  let summary;
  try {
    summary = await runFuzz(opts);
  } catch (err) {
    console.error(`fuzz: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const { failures, ...rest } = summary;
  console.log(JSON.stringify({ ...rest, failures }, null, 1));
  process.exitCode = clean(summary) ? 0 : 1;
}

if (!isMainThread && workerData?.role === WORKER_ROLE) {
  await workerMain();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await cliMain();
}
