// docs/benchmarks.md and its chart (an SVG written from the numbers) for bench/run.mjs.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { blocksizes, decodeRange, renderDecodeTable } from "./full-decode.mjs";
import { cpuModel, formatBytes, memTotal, ms, nproc, root, table } from "./lib.mjs";

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"))
      .version;
  } catch {
    return "unknown";
  }
}

const x = (v) => `${v.toFixed(2)}x`;

/** Per selection: times and ratios (ratio = native nthreads=1 time / contender time). */
function sliceRows(run) {
  if (!run.slices) return [];
  return run.slices.results.map((r) => {
    const nat = run.nativeSlices.results.find((n) => n.id === r.id).native;
    const w = run.spec.workloads.find((s) => s.name === r.workload);
    const s = w.selections.find((q) => q.id === r.id);
    const n1 = nat.n1.median_s;
    const c = r.contenders;
    const outBytes = nat.n1.shape.reduce((a, b) => a * b, 1) * 8;
    return {
      workload: r.workload,
      id: r.id,
      label: s.label,
      kind: s.kind,
      outBytes,
      t: {
        native1: n1,
        native2: nat.n2?.median_s,
        ours1: c.ours1.median_s,
        oursN: c.oursN?.median_s,
        zarrita: c.zarrita.median_s,
        ref: nat.ref?.median_s,
      },
      vsNative: {
        native2: nat.n2 ? n1 / nat.n2.median_s : undefined,
        ours1: n1 / c.ours1.median_s,
        oursN: c.oursN ? n1 / c.oursN.median_s : undefined,
        zarrita: n1 / c.zarrita.median_s,
        ref: nat.ref ? n1 / nat.ref.median_s : undefined,
      },
      oursVsRef: nat.ref ? nat.ref.median_s / c.ours1.median_s : undefined,
      oursVsZarrita: c.zarrita.median_s / c.ours1.median_s,
      oursNvsOurs1: c.oursN ? c.ours1.median_s / c.oursN.median_s : undefined,
    };
  });
}

function workloadTable(rows, workers, hasPool) {
  const hasRef = rows.every((r) => r.t.ref !== undefined);
  const header = ["selection", "output", "native n1 ms", "native n2 ms"];
  if (hasRef) header.push("native SSE2 ms");
  header.push("ours 1w ms");
  if (hasPool) header.push(`ours ${workers}w ms`);
  header.push("zarrita ms", "ours 1w vs native n1", "native n2 vs n1");
  if (hasPool) header.push(`ours ${workers}w vs native n1`);
  header.push("zarrita vs native n1", "ours 1w vs zarrita");
  if (hasRef) header.push("ours 1w vs native SSE2");
  const body = rows.map((r) => {
    const cells = [
      r.label,
      formatBytes(r.outBytes),
      ms(r.t.native1),
      r.t.native2 ? ms(r.t.native2) : "-",
    ];
    if (hasRef) cells.push(ms(r.t.ref));
    cells.push(ms(r.t.ours1));
    if (hasPool) cells.push(ms(r.t.oursN));
    cells.push(
      ms(r.t.zarrita),
      x(r.vsNative.ours1),
      r.vsNative.native2 ? x(r.vsNative.native2) : "-",
    );
    if (hasPool) cells.push(x(r.vsNative.oursN));
    cells.push(x(r.vsNative.zarrita), x(r.oursVsZarrita));
    if (hasRef) cells.push(x(r.oursVsRef));
    return cells;
  });
  return table(
    header,
    body,
    header.map((_, i) => i > 0),
  );
}

/** The targets of the issue, each with the numbers it is judged on and pass/fail. */
function targets(run, rows) {
  const out = [];
  const verdict = (ok) => (ok === undefined ? "not measured" : ok ? "**pass**" : "**FAIL**");
  if (run.decode) {
    const rel = run.decode.map((r) => ({ r, v: r.wasm.mbps / r.native.mbps }));
    const worst = rel.reduce((a, b) => (b.v < a.v ? b : a));
    out.push([
      "single-thread full-chunk decode ≥ 0.8x native nthreads=1",
      `worst ${x(worst.v)} (${worst.r.data}/${worst.r.codec}/${worst.r.filter}); range ${decodeRange(run.decode, "wasm")}`,
      verdict(worst.v >= 0.8),
    ]);
  } else {
    out.push(["single-thread full-chunk decode ≥ 0.8x native nthreads=1", "-", verdict(undefined)]);
  }
  const slices = rows.filter((r) => r.kind !== "full");
  if (slices.length) {
    const worst = slices.reduce((a, b) => (b.vsNative.ours1 < a.vsNative.ours1 ? b : a));
    out.push([
      "slices W1-W3 ≥ 0.7x native nthreads=1 (ours, 1 worker)",
      `worst ${x(worst.vsNative.ours1)} (${worst.workload} ${worst.label}); ${slices.filter((r) => r.vsNative.ours1 >= 0.7).length}/${slices.length} selections pass`,
      verdict(worst.vsNative.ours1 >= 0.7),
    ]);
  } else {
    out.push(["slices W1-W3 ≥ 0.7x native nthreads=1", "-", verdict(undefined)]);
  }
  const zr = rows.filter(
    (r) =>
      (r.workload === "w1" && r.kind === "hyperplane") || (r.workload === "w2" && r.kind === "row"),
  );
  if (zr.length) {
    const worst = zr.reduce((a, b) => (b.oursVsZarrita < a.oursVsZarrita ? b : a));
    out.push([
      "≥ 3x zarrita + numcodecs.js on W1 hyperplanes and the W2 row (ours, 1 worker)",
      `worst ${x(worst.oursVsZarrita)} (${worst.workload} ${worst.label})`,
      verdict(worst.oursVsZarrita >= 3),
    ]);
  } else {
    out.push(["≥ 3x zarrita + numcodecs.js on W1 and W2 row slices", "-", verdict(undefined)]);
  }
  const full = rows.find((r) => r.id === "w1-full");
  const workers = run.slices?.workers;
  out.push([
    `W1 full read with ${workers ?? "N"} workers ≥ 1.7x one worker`,
    full?.oursNvsOurs1 !== undefined
      ? `${x(full.oursNvsOurs1)} (${ms(full.t.ours1)} ms → ${ms(full.t.oursN)} ms)`
      : "no decode pool in this build (createDecodePool not exported)",
    verdict(full?.oursNvsOurs1 === undefined ? undefined : full.oursNvsOurs1 >= 1.7),
  ]);
  const judged = (run.memory ?? []).filter((m) => m.judged);
  if (judged.length) {
    const bad = judged.filter((m) => !m.pass);
    out.push([
      "a selection allocates its output + O(block) scratch, not O(chunk)",
      `peak RSS growth minus output vs ½ chunk, ${judged.length} W3 reads: ${bad.length ? bad.map((m) => `${m.label} +${formatBytes(m.scratch)}`).join(", ") : "all below"}`,
      verdict(bad.length === 0),
    ]);
  } else {
    out.push(["a selection allocates its output + O(block) scratch", "-", verdict(undefined)]);
  }
  return table(["target", "measured", "verdict"], out, [false, false, false]);
}

/**
 * The same targets against the reference build (bench/native-ref.mjs): how much of each gap
 * is WebAssembly and how much python-blosc2's wider instruction set.
 */
function refNote(run, rows) {
  const parts = [];
  const range = (v) => `${x(Math.min(...v))}-${x(Math.max(...v))}`;
  const slices = rows.filter((r) => r.kind !== "full" && r.oursVsRef !== undefined);
  if (slices.length) {
    parts.push(
      `slices, ours 1w ${range(slices.map((r) => r.oursVsRef))} of it, while it runs at ${range(slices.map((r) => r.vsNative.ref))} of python-blosc2 n1`,
    );
  }
  const decode = (run.decode ?? []).filter((r) => r.ref);
  if (decode.length) {
    parts.push(
      `full-chunk decode, wasm core ${range(decode.map((r) => r.core.mbps / r.ref.mbps))} of it, while it runs at ${range(decode.map((r) => r.ref.mbps / r.native.mbps))} of python-blosc2`,
    );
  }
  if (!parts.length) return "";
  return `
The pinned C-Blosc2 ${run.wasmVersion} source that the wasm is built from, compiled natively by
gcc for baseline x86-64 (SSE2, no AVX2, no BMI2: "native SSE2", \`bench/native_ref.sh\`), one
thread, timed beside python-blosc2: ${parts.join("; ")}.
`;
}

/** How the rounds of a run were combined (runs before --rounds had one). */
function roundsNote(run) {
  const rounds = run.opts.rounds ?? 1;
  if (rounds < 2) return "";
  return `The timings ran in ${rounds} rounds (all native timings, then all JS timings, then again),
so that a drift of the machine's speed over the run does not land on one side only; each
time shown is the faster of its rounds' medians (every round's median is in results.json).`;
}

function judgeMemory(memory) {
  for (const m of memory ?? []) {
    m.scratch = m.peak_growth - m.output_bytes;
    // Judged on W3 (16 MB chunks, far above RSS noise), not on reads of a whole chunk.
    m.judged = m.workload === "w3" && m.output_bytes < m.chunk_bytes;
    m.pass = m.scratch < m.chunk_bytes / 2;
  }
}

function memoryTable(memory) {
  const rows = memory.map((m) => [
    `${m.workload} ${m.label}`,
    formatBytes(m.output_bytes),
    formatBytes(m.block_bytes),
    formatBytes(m.chunk_bytes),
    `${m.chunks_touched} / ${m.blocks_decoded}`,
    m.first_peak_growth === undefined ? "-" : formatBytes(Math.max(0, m.first_peak_growth)),
    formatBytes(Math.max(0, m.peak_growth)),
    formatBytes(Math.max(0, m.rss_delta)),
    `${formatBytes(m.wasm_cold)} → ${formatBytes(m.wasm_before)} → ${formatBytes(m.wasm_after)}`,
    m.judged ? (m.pass ? "pass" : "FAIL") : "(not judged)",
  ]);
  return table(
    [
      "read",
      "output",
      "block",
      "chunk",
      "chunks / blocks",
      "first read: peak RSS growth",
      "peak RSS growth",
      "maxRSS growth",
      "wasm memory",
      "verdict",
    ],
    rows,
    [false, true, true, true, true, true, true, true, true, false],
  );
}

/** Grouped bars, log scale: speed relative to native nthreads=1 per selection and contender. */
export function renderSvg(rows, workers, hasPool) {
  const series = [
    { key: "ours1", label: "ours, 1 worker", color: "#1f77b4" },
    ...(hasPool ? [{ key: "oursN", label: `ours, ${workers} workers`, color: "#6baed6" }] : []),
    { key: "native2", label: "native, 2 threads", color: "#999999" },
    { key: "zarrita", label: "zarrita + numcodecs.js", color: "#ff7f0e" },
  ];
  const W = Math.max(640, 110 + rows.length * (series.length * 14 + 22));
  const H = 380;
  const left = 60;
  const top = 40;
  const plotH = 250;
  const values = rows.flatMap((r) => series.map((s) => r.vsNative[s.key]).filter((v) => v > 0));
  // Bars grow from the bottom of the axis: keep it a decade below the smallest value.
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.1, ...values) / 1.2));
  const hi = Math.max(4, ...values) * 1.2;
  const lmin = Math.log10(lo);
  const lmax = Math.log10(hi);
  const y = (v) => top + plotH - ((Math.log10(v) - lmin) / (lmax - lmin)) * plotH;
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="title">`,
    `<title id="title">Slicing speed relative to native python-blosc2 with one thread, per workload and selection: ${esc(series.map((s) => s.label).join(", "))}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">Speed relative to native python-blosc2, nthreads=1 (higher is faster; log scale)</text>`,
  );
  for (const t of [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50,
  ].filter((t) => t >= lo && t <= hi)) {
    parts.push(
      `<line x1="${left}" x2="${W - 10}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${t === 1 ? "#000" : "#ddd"}"/>`,
      `<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}x</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" x2="${W - 10}" y1="${y(0.7).toFixed(1)}" y2="${y(0.7).toFixed(1)}" stroke="#d62728" stroke-dasharray="4 3"/>`,
    `<text x="${W - 12}" y="${(y(0.7) - 3).toFixed(1)}" text-anchor="end" fill="#d62728">target 0.7x</text>`,
  );
  const groupW = series.length * 14 + 22;
  rows.forEach((r, i) => {
    const gx = left + 12 + i * groupW;
    series.forEach((s, j) => {
      const v = r.vsNative[s.key];
      if (!(v > 0)) return;
      const bx = gx + j * 14;
      const by = y(Math.max(v, lo));
      parts.push(
        `<rect x="${bx}" y="${by.toFixed(1)}" width="12" height="${(top + plotH - by).toFixed(1)}" fill="${s.color}"><title>${esc(`${r.workload} ${r.label}: ${s.label} ${v.toFixed(2)}x`)}</title></rect>`,
      );
    });
    const cx = gx + (series.length * 14) / 2;
    parts.push(
      `<text x="${cx}" y="${top + plotH + 14}" text-anchor="middle" font-weight="bold">${r.workload.toUpperCase()}</text>`,
      `<text x="${cx}" y="${top + plotH + 27}" text-anchor="middle">${esc(r.kind === "full" ? "full" : r.kind === "hyperplane" ? `axis ${r.id.slice(-1)}` : r.kind)}</text>`,
    );
  });
  series.forEach((s, j) => {
    const lx = left + j * 170;
    parts.push(
      `<rect x="${lx}" y="${H - 30}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="${H - 20}">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

export function renderReport(run, svgName) {
  const cpu = cpuModel();
  const flags = cpu.simd.length ? ` (flags include ${cpu.simd.join(", ")})` : "";
  judgeMemory(run.memory);
  const rows = sliceRows(run);
  const workers = run.slices?.workers ?? 0;
  const hasPool = run.slices?.hasPool ?? false;
  const nat = run.nativeSlices ?? run.decodeNative?.native;
  const dataVersions = run.spec.versions;
  const started = new Date(run.started); // a string when re-rendered from results.json
  const lines = [];
  lines.push(`# Benchmarks

Generated by \`npm run bench\` (\`bench/run.mjs\`; running it again overwrites this file and
[${svgName}](${svgName})). Benchmarks, not tests: one run on one machine, everything on the
same data. Raw numbers of the last run: \`bench/out/results.json\` (not committed).

- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")} (whole run ${run.elapsed.toFixed(0)} s${run.opts.only.length ? `, parts: ${run.opts.only.join(", ")}` : ""})
- Machine: ${nproc()} CPUs (nproc), ${cpu.model}${flags}, ${memTotal()} RAM; load average ${run.load} at the start
- Software: Node ${process.version} (V8 ${process.versions.v8})${nat ? `, Python ${nat.python}, NumPy ${nat.numpy}` : ""}
- Native: C-Blosc2 ${nat?.c_blosc2 ?? "?"} from python-blosc2 ${nat?.python_blosc2 ?? "?"}
- Ours: C-Blosc2 ${run.wasmVersion} in wasm (\`wasm/build.sh\`), zarr-blosc2 from \`dist/\`${hasPool ? `, decode pool of ${workers} workers` : "; this build has no decode pool (`createDecodePool`), so the N-worker column is absent"}
- zarrita ${pkgVersion("zarrita")} + numcodecs.js ${pkgVersion("numcodecs")} (Blosc1 in wasm)${dataVersions ? `; data written by zarr-python ${dataVersions.zarr} / numcodecs ${dataVersions.numcodecs}` : ""}
`);

  lines.push(`## Targets

Computed from the numbers below. Ratios are speeds: native nthreads=1 time / contender time
(above 1x: faster than native).

${targets(run, rows)}
${refNote(run, rows)}`);

  if (rows.length) {
    lines.push(`## Slicing

![speed relative to native nthreads=1](${svgName})

Method: \`bench/make_data.py\` writes each workload once (cached in \`bench/out/data/\`) as a
\`.b2nd\` file (python-blosc2) and as an equivalent Zarr v2 store (numcodecs \`Blosc\`, i.e.
Blosc1, same codec, clevel and shuffle, chunks equal to the b2nd chunks; Blosc1 picks its own
block size). Every selection goes through the middle index of one axis. Contenders:

- native n1 / n2: python-blosc2 \`arr[sel]\` on the opened \`.b2nd\` (\`blosc2.set_nthreads(1)\`
  and \`2\`, \`DParams(nthreads=…)\`), timed first, before any JS (\`bench/native_slices.py\`);
- ours 1w: \`(await openB2nd(file)).get(sel)\`, decoding in the main thread${hasPool ? `; ours ${workers}w: the same with \`{ pool }\` from \`createDecodePool({ workers: ${workers} })\`` : ""};
- zarrita: \`zarr.get(arr, sel)\` on the Zarr v2 store through \`@zarrita/storage\`'s \`FileSystemStore\`;
- native SSE2 (a reference, not a contender): \`b2nd_get_slice_cbuffer\` into a new buffer
  each run, one thread, from the C-Blosc2 source our wasm is built from, compiled natively for
  baseline x86-64 (\`bench/native_ref.sh\`), timed in the native half of each round.

Each time is the median of 3-15 runs (as many as fit in about ${run.opts.budget} s) after one
warm-up run, garbage collected between runs outside the timing. Opening files is not timed.
${roundsNote(run)}
Every contender's result is checked against native's (sha256 of the C-order bytes; shapes too);
a mismatch fails the bench.
`);
    for (const w of run.spec.workloads) {
      const wr = rows.filter((r) => r.workload === w.name);
      if (!wr.length) continue;
      const scaled =
        w.full_shape && w.full_shape.join() !== w.shape.join()
          ? ` **Scaled down** from the announcement's (${w.full_shape.join(", ")}) = ${formatBytes(w.full_shape.reduce((a, b) => a * b, 8))}: the first dimension is ${w.shape[0]} (\`--w1-first ${w.shape[0]}\`; the default, 50, is the full size, whose full read every contender makes several times: about 6 of the bench's minutes on a loaded 2-CPU machine).`
          : "";
      lines.push(`### ${w.title}

float64 (${w.shape.join(", ")}) = ${formatBytes(w.nbytes)}, chunks (${w.chunks.join(", ")}) = ${formatBytes(w.chunk_bytes)}, blocks (${w.blocks.join(", ")}) = ${formatBytes(w.block_bytes)}, ${w.codec} clevel ${w.clevel} + ${w.filter}; ${w.data === "linspace" ? "`blosc2.linspace(0, 1)`" : "seeded `numpy.random.default_rng` standard normal values quantized to 2^-20"}. Stored: .b2nd ${formatBytes(w.b2nd_cbytes)} (ratio ${(w.nbytes / w.b2nd_cbytes).toFixed(2)}), Zarr v2 ${formatBytes(w.zarr_v2_cbytes)} (ratio ${(w.nbytes / w.zarr_v2_cbytes).toFixed(2)}).${scaled}

${workloadTable(wr, workers, hasPool)}
`);
    }
  }

  if (run.decode) {
    const m = run.decodeNative.manifest;
    lines.push(`## Full-chunk decode: wasm vs native C-Blosc2, one thread

Chunks made once per run by python-blosc2 (\`bench/native_decode.py\`) and decoded as the same
bytes by both sides: ${m.chunk_bytes / 2 ** 20} MiB of float64 each (seed ${m.seed}); clevel 5,
shuffle or bitshuffle, typesize 8; blocksize and splitmode left to C-Blosc2 (${blocksizes(run.decode)}).
"smooth" is a sum of three sines rounded to 4 decimals, "noisy" standard normal values.
Native: \`blosc2.decompress2(chunk, dst=preallocated, dparams=DParams(nthreads=1))\`. "wasm" is
the public \`decompress(chunk, { out })\` into a preallocated buffer (the copies into and out
of wasm memory included); "wasm core" is \`zb_decompress\` alone between buffers already in wasm memory.
"native SSE2": \`blosc2_decompress_ctx\` into a preallocated buffer, from the C-Blosc2 source
our wasm is built from, compiled natively for baseline x86-64 (\`bench/native_ref.sh\`).
${run.opts.warmup} warm-up decodes, then the median of ${run.opts.runs}; sha256 of the output
checked on both sides. MB/s = 10^6 decoded bytes per second. ${(run.opts.rounds ?? 1) > 1 ? "Rounds as for the slices: the faster round's median." : ""}

${renderDecodeTable(run.decode)}

This run: wasm/native ${decodeRange(run.decode, "wasm")} through \`decompress\`,
${decodeRange(run.decode, "core")} for the decoder alone.
`);
  }

  if (run.memory?.length) {
    lines.push(`## Memory of one read

Each case runs in a fresh process (\`bench/memory.mjs\`): load the wasm module, open the file,
read one element of the first chunk (a warm-up no case touches), then make the case's read
three times. Before each: collect garbage, reset the kernel's peak-RSS mark (\`5\` to
\`/proc/self/clear_refs\`), note the resident set, \`process.resourceUsage().maxRSS\` and the
wasm memory size; after it, note them again. "peak RSS growth" is VmHWM after the read minus
VmRSS before it: what the read added at its peak (output, scratch, everything). The first
read's growth ("first read") also holds a one-time cost of the process: V8 compiles the
decoder's hot wasm functions again with its optimizing compiler once they have run a while,
and that compiler's memory (tens of MB; the allocator keeps it) lands in whichever read runs
long enough first, and some of it into the second (with \`--liftoff-only\` or
\`--no-liftoff\` it stays out of reads). The third read is what one read costs, and is
judged ("peak RSS growth"). "maxRSS growth" is the growth of
\`process.resourceUsage().maxRSS\` over the third read: a high-water mark that on Linux also
carries over the peak of the process that spawned the child (through fork and exec; here the
bench itself, several GiB after W1), so it often stays 0; shown as asked, not judged. "wasm
memory": at load → before the third read → after it (it never shrinks).

The target: a selection allocates its output plus O(block) scratch per worker, not O(chunk);
judged on W3 (16 MB chunks, far above RSS noise): pass when the third read's peak RSS
growth minus output is below half a chunk. The whole-chunk read is for comparison.${hasPool ? " With a decode pool the workers' wasm memories are not counted here." : ""}

${memoryTable(run.memory)}
`);
  }

  // Hand-written analysis (profiles are not part of the run): bench/where-time-goes.md.
  const analysis = join(dirname(fileURLToPath(import.meta.url)), "where-time-goes.md");
  lines.push(existsSync(analysis) ? readFileSync(analysis, "utf8") : "## Where the time goes\n");
  return { markdown: lines.join("\n"), svg: renderSvg(rows, workers, hasPool) };
}
