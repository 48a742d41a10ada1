// Property tests for the pure read planner (src/plan) against naive references written here:
// every selected index enumerated per dimension with Python slice semantics, every selected
// point mapped to its (chunk, block) pair by plain division. Then end to end: random arrays
// written with writeB2nd and read back with openB2nd(...).get(selection), compared with a
// naive JS slice of the input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockEnds } from "../src/format/chunk.js";
import { FormatError, OptionsError, openB2nd, writeB2nd } from "../src/index.js";
import {
  blockByteRanges,
  blockGrid,
  chunkGrid,
  type GridMeta,
  planRead,
} from "../src/plan/b2nd-plan.js";
import {
  type DimSelection,
  normalizeSelection,
  resultShape,
  type Selection,
  slice,
} from "../src/plan/selection.js";

// ---------------------------------------------------------------------------------------------
// Naive references

/**
 * The indices `range(length)[start:stop:step]` selects in Python (CPython's
 * PySlice_AdjustIndices, checked against Python for every start/stop in -9..9, steps ±1..4
 * and lengths 0..6 when this was written).
 */
function pyIndices(
  length: number,
  start: number | null,
  stop: number | null,
  step: number | null,
): number[] {
  const st = step ?? 1;
  const out: number[] = [];
  if (st > 0) {
    const lo =
      start === null ? 0 : start < 0 ? Math.max(0, start + length) : Math.min(start, length);
    const hi =
      stop === null ? length : stop < 0 ? Math.max(0, stop + length) : Math.min(stop, length);
    for (let i = lo; i < hi; i += st) out.push(i);
  } else {
    const lo =
      start === null
        ? length - 1
        : start < 0
          ? Math.max(-1, start + length)
          : Math.min(start, length - 1);
    const hi =
      stop === null ? -1 : stop < 0 ? Math.max(-1, stop + length) : Math.min(stop, length - 1);
    for (let i = lo; i > hi; i += st) out.push(i);
  }
  return out;
}

/** Per dimension: the selected indices, and whether the dimension stays in the result. */
function refIndices(
  selection: Selection,
  shape: readonly number[],
): { idx: number[][]; keep: boolean[] } {
  const sel = selection ?? [];
  const idx: number[][] = [];
  const keep: boolean[] = [];
  shape.forEach((n, d) => {
    const s = sel[d];
    if (s === null || s === undefined) {
      idx.push(Array.from({ length: n }, (_, i) => i));
      keep.push(true);
    } else if (typeof s === "number") {
      idx.push([s < 0 ? s + n : s]);
      keep.push(false);
    } else {
      idx.push(pyIndices(n, s.start, s.stop, s.step));
      keep.push(true);
    }
  });
  return { idx, keep };
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Calls fn for every point of the Cartesian product of idx (C order). */
function forEachPoint(idx: readonly number[][], fn: (p: number[]) => void): void {
  const ndim = idx.length;
  if (idx.some((l) => l.length === 0)) return;
  const k = new Array<number>(ndim).fill(0);
  for (;;) {
    fn(k.map((ki, d) => idx[d]![ki]!));
    let d = ndim - 1;
    while (d >= 0 && ++k[d]! === idx[d]!.length) k[d--] = 0;
    if (d < 0) return;
  }
}

/** Linear C-order index of coords over grid. */
function linear(coords: readonly number[], grid: readonly number[]): number {
  let x = 0;
  for (let d = 0; d < coords.length; d++) x = x * grid[d]! + coords[d]!;
  return x;
}

interface RefPlan {
  grid: number[];
  bgrid: number[];
  /** Chunk linear index -> its coords and the set of touched block linear indices. */
  chunks: Map<number, { coords: number[]; blocks: Set<number> }>;
  points: number;
}

/** Every selected point, mapped to its chunk and to the block inside that chunk. */
function refPlan(meta: GridMeta, idx: number[][]): RefPlan {
  const grid = meta.shape.map((n, d) => (n === 0 ? 0 : Math.ceil(n / meta.chunkShape[d]!)));
  const bgrid = meta.chunkShape.map((c, d) => (c === 0 ? 0 : Math.ceil(c / meta.blockShape[d]!)));
  const chunks = new Map<number, { coords: number[]; blocks: Set<number> }>();
  let points = 0;
  forEachPoint(idx, (p) => {
    points++;
    const cc = p.map((i, d) => Math.floor(i / meta.chunkShape[d]!));
    const bc = p.map((i, d) =>
      Math.floor((i - cc[d]! * meta.chunkShape[d]!) / meta.blockShape[d]!),
    );
    const c = linear(cc, grid);
    let entry = chunks.get(c);
    if (!entry) {
      entry = { coords: cc, blocks: new Set() };
      chunks.set(c, entry);
    }
    entry.blocks.add(linear(bc, bgrid));
  });
  return { grid, bgrid, chunks, points };
}

/** Number of blocks of chunk `coords` that hold array data (the rest is padding). */
function refValidBlocks(meta: GridMeta, coords: readonly number[]): number {
  return prod(
    coords.map((c, d) => {
      const extent = Math.min(meta.chunkShape[d]!, meta.shape[d]! - c * meta.chunkShape[d]!);
      return Math.ceil(extent / meta.blockShape[d]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Small sizes most of the time (edges, empty dims), up to 40 sometimes. */
const sizeArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 8 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 40 }), weight: 2 },
);

interface Dim {
  size: number;
  chunk: number;
  block: number;
}

/** One dimension: size, a chunk (may exceed the size; 0 only for an empty dim), a block <= chunk. */
const dimArb: fc.Arbitrary<Dim> = sizeArb.chain((size) =>
  (size === 0
    ? fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 }))
    : fc.integer({ min: 1, max: size + 5 })
  ).chain((chunk) =>
    (chunk === 0 ? fc.constant(0) : fc.integer({ min: 1, max: chunk })).map((block) => ({
      size,
      chunk,
      block,
    })),
  ),
);

/** A selection entry for a dimension of `size`: null, an index (negative too), or a slice. */
function dimSelArb(size: number): fc.Arbitrary<DimSelection> {
  const bound = fc.oneof(
    fc.constant(null),
    fc.integer({ min: -size - 4, max: size + 4 }),
    fc.integer({ min: -1000, max: 1000 }),
  );
  const step = fc.oneof(
    fc.constant(null),
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: -5, max: -1 }),
    fc.integer({ min: -50, max: 50 }).filter((s) => s !== 0),
  );
  const options: fc.Arbitrary<DimSelection>[] = [
    fc.constant(null),
    fc.tuple(bound, bound, step).map(([a, b, s]) => slice(a, b, s)),
  ];
  if (size > 0) options.push(fc.integer({ min: -size, max: size - 1 }));
  return fc.oneof(...options);
}

/** A selection: null, or one entry per dimension with trailing entries sometimes omitted. */
function selectionArb(shape: readonly number[]): fc.Arbitrary<Selection> {
  return fc.oneof(
    { arbitrary: fc.constant(null), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.tuple(...shape.map(dimSelArb)), fc.integer({ min: 0, max: shape.length }))
        .map(([entries, keep]) => (entries as DimSelection[]).slice(0, keep)),
      weight: 1,
    },
    { arbitrary: fc.tuple(...shape.map(dimSelArb)) as fc.Arbitrary<Selection>, weight: 6 },
  );
}

const gridCaseArb = fc
  .integer({ min: 0, max: 4 })
  .chain((ndim) => fc.tuple(...Array.from({ length: ndim }, () => dimArb)))
  // Keep the naive point enumeration cheap: at most 60 000 elements.
  .filter((dims) => prod(dims.map((d) => d.size)) <= 60_000)
  .chain((dims) => {
    const meta: GridMeta = {
      shape: dims.map((d) => d.size),
      chunkShape: dims.map((d) => d.chunk),
      blockShape: dims.map((d) => d.block),
    };
    return selectionArb(meta.shape).map((selection) => ({ meta, selection }));
  });

// ---------------------------------------------------------------------------------------------
// Planner properties

describe("normalizeSelection / resultShape", () => {
  it("select exactly the indices of Python slicing, in order", () => {
    fc.assert(
      fc.property(gridCaseArb, ({ meta, selection }) => {
        const ranges = normalizeSelection(selection, meta.shape);
        const { idx, keep } = refIndices(selection, meta.shape);
        expect(ranges.length).toBe(meta.shape.length);
        ranges.forEach((r, d) => {
          expect(r.count).toBe(idx[d]!.length);
          expect(r.keep).toBe(keep[d]);
          const got = Array.from({ length: r.count }, (_, k) => r.start + k * r.step);
          expect(got).toEqual(idx[d]);
        });
        expect(resultShape(ranges)).toEqual(idx.filter((_, d) => keep[d]).map((l) => l.length));
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects out-of-bounds indices, zero or fractional steps with OptionsError", () => {
    const badArb = fc
      .integer({ min: 1, max: 4 })
      .chain((ndim) =>
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 20 }), { minLength: ndim, maxLength: ndim }),
          fc.integer({ min: 0, max: ndim - 1 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 1000 }),
        ),
      );
    fc.assert(
      fc.property(badArb, ([shape, d, kind, extra]) => {
        const n = shape[d]!;
        const bad: DimSelection[] = [
          n + extra, // index past the end
          slice(0, n, 0), // step 0
          -n - 1 - extra, // index before the start
          slice(0.5, n, 1), // fractional start
        ];
        const sel: DimSelection[] = shape.map(() => null);
        sel[d] = bad[kind]!;
        expect(() => normalizeSelection(sel, shape)).toThrow(OptionsError);
      }),
      { numRuns: 300 },
    );
    expect(() => normalizeSelection([null, null], [3])).toThrow(OptionsError);
  });
});

describe("planRead", () => {
  it("touches exactly the chunks and blocks of the selected points; segments cover each output position once", () => {
    fc.assert(
      fc.property(gridCaseArb, ({ meta, selection }) => {
        const ranges = normalizeSelection(selection, meta.shape);
        const { idx } = refIndices(selection, meta.shape);
        const ref = refPlan(meta, idx);
        const plan = planRead(meta, ranges);

        expect(plan.chunkGrid).toEqual(ref.grid);
        expect(plan.blocksPerChunk).toEqual(ref.bgrid);
        expect(chunkGrid(meta)).toEqual(ref.grid);
        expect(blockGrid(meta)).toEqual(ref.bgrid);

        // Chunks: exactly the reference set, ascending, with their coordinates.
        const refChunks = [...ref.chunks.keys()].sort((a, b) => a - b);
        expect(plan.chunks.map((c) => c.chunk)).toEqual(refChunks);
        let covered = 0;
        for (const cp of plan.chunks) {
          const r = ref.chunks.get(cp.chunk)!;
          expect(cp.coords).toEqual(r.coords);
          // Blocks: exactly the blocks holding selected points, ascending.
          expect(cp.blocks).toEqual([...r.blocks].sort((a, b) => a - b));
          expect(cp.whole).toBe(r.blocks.size === refValidBlocks(meta, cp.coords));

          // Segments: each maps its output positions to this chunk and block, at the right
          // place inside the block; blocks are distinct per dimension (copyBlock finds a
          // block's segment by its block index).
          expect(cp.segments.length).toBe(meta.shape.length);
          const segBlocks: number[][] = [];
          cp.segments.forEach((segs, d) => {
            const chunk = meta.chunkShape[d]!;
            const block = meta.blockShape[d]!;
            const blocksHere = segs.map((s) => s.block);
            expect(new Set(blocksHere).size).toBe(blocksHere.length);
            segBlocks.push(blocksHere);
            for (const s of segs) {
              expect(s.chunk).toBe(cp.coords[d]);
              expect(s.k1).toBeGreaterThan(s.k0);
              const blockStart = s.chunk * chunk + s.block * block;
              for (let k = s.k0; k < s.k1; k++) {
                const i = idx[d]![k]!;
                const local = s.local + (k - s.k0) * ranges[d]!.step;
                expect(i).toBe(blockStart + local);
                expect(local).toBeGreaterThanOrEqual(0);
                expect(local).toBeLessThan(Math.min(block, chunk - s.block * block));
              }
            }
          });
          // The Cartesian product of the segments' blocks is the chunk's block list.
          const fromSegs = new Set<number>();
          forEachPoint(segBlocks, (bc) => fromSegs.add(linear(bc, ref.bgrid)));
          expect([...fromSegs].sort((a, b) => a - b)).toEqual(cp.blocks);
          covered += prod(cp.segments.map((segs) => segs.reduce((n, s) => n + s.k1 - s.k0, 0)));
        }
        // Every output position of every dimension is in exactly one segment per chunk
        // coordinate, and the chunks' boxes add up to the whole result.
        meta.shape.forEach((_, d) => {
          const seen = new Array<number>(idx[d]!.length).fill(0);
          const coordsDone = new Set<number>();
          for (const cp of plan.chunks) {
            if (coordsDone.has(cp.coords[d]!)) continue;
            coordsDone.add(cp.coords[d]!);
            for (const s of cp.segments[d]!) for (let k = s.k0; k < s.k1; k++) seen[k]!++;
          }
          if (ref.points > 0) expect(seen.every((n) => n === 1)).toBe(true);
        });
        expect(covered).toBe(ref.points);
        expect(ref.points).toBe(prod(resultShape(ranges)));
      }),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// blockByteRanges

interface Layout {
  /** Block sizes in block order. */
  sizes: number[];
  /** Storage order: a permutation of block indices. */
  order: number[];
  /** Bytes between the block-start table and the first block (e.g. a dictionary). */
  pad: number;
}

const layoutArb: fc.Arbitrary<Layout> = fc
  .array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 40 })
  .chain((sizes) =>
    fc.record({
      sizes: fc.constant(sizes),
      order: fc.shuffledSubarray(
        sizes.map((_, i) => i),
        { minLength: sizes.length, maxLength: sizes.length },
      ),
      pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
    }),
  );

function place(l: Layout): { bstarts: Int32Array; cbytes: number; spans: [number, number][] } {
  const n = l.sizes.length;
  const bstarts = new Int32Array(n);
  const spans: [number, number][] = new Array(n);
  let at = 32 + 4 * n + l.pad;
  for (const b of l.order) {
    bstarts[b] = at;
    spans[b] = [at, at + l.sizes[b]!];
    at += l.sizes[b]!;
  }
  return { bstarts, cbytes: at, spans };
}

describe("blockEnds", () => {
  it("ends every block where the next stored block begins, the last stored at cbytes", () => {
    fc.assert(
      fc.property(layoutArb, (layout) => {
        // As stored (any order), and with the blocks stored in index order (the fast path).
        const inOrder = { ...layout, order: layout.sizes.map((_, i) => i) };
        for (const l of [layout, inOrder]) {
          const { bstarts, cbytes, spans } = place(l);
          expect(Array.from(blockEnds(bstarts, cbytes))).toEqual(spans.map(([, end]) => end));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("blockByteRanges", () => {
  it("covers exactly the wanted blocks' bytes, sorted, disjoint, merged iff the gap is <= mergeGap", () => {
    const arb = layoutArb.chain((l) =>
      fc.record({
        layout: fc.constant(l),
        wanted: fc.subarray(
          l.sizes.map((_, i) => i),
          { minLength: 0 },
        ),
        mergeGap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 }), fc.constant(65536)),
      }),
    );
    fc.assert(
      fc.property(arb, ({ layout, wanted, mergeGap }) => {
        const { bstarts, cbytes, spans } = place(layout);
        const ranges = blockByteRanges(bstarts, cbytes, wanted, mergeGap, "test");
        // Each wanted block in exactly one range, and nothing else.
        const listed = ranges.flatMap((r) => r.blocks).sort((a, b) => a - b);
        expect(listed).toEqual([...wanted].sort((a, b) => a - b));
        for (let i = 0; i < ranges.length; i++) {
          const r = ranges[i]!;
          const own = r.blocks.map((b) => spans[b]!).sort((a, b) => a[0] - b[0]);
          // A range spans exactly from its first block's start to its last block's end...
          expect(r.start).toBe(own[0]![0]);
          expect(r.end).toBe(own[own.length - 1]![1]);
          // ...and its blocks follow each other with gaps of at most mergeGap.
          for (let j = 1; j < own.length; j++) {
            expect(own[j]![0] - own[j - 1]![1]).toBeLessThanOrEqual(mergeGap);
          }
          // Sorted, disjoint, and not mergeable with the next range.
          if (i > 0) expect(r.start - ranges[i - 1]!.end).toBeGreaterThan(mergeGap);
          expect(r.start).toBeGreaterThanOrEqual(32 + 4 * bstarts.length);
          expect(r.end).toBeLessThanOrEqual(cbytes);
        }
        // No unwanted block lies wholly inside a range unless it sits in a merged gap.
        const spanOf = new Set(wanted);
        for (const [b, [s, e]] of spans.entries()) {
          if (spanOf.has(b)) continue;
          const inside = ranges.find((r) => s >= r.start && e <= r.end);
          if (inside) {
            const own = inside.blocks.map((x) => spans[x]!);
            // it must lie between two of the range's blocks, in a gap <= mergeGap
            const before = Math.max(...own.filter(([, oe]) => oe <= s).map(([, oe]) => oe));
            const after = Math.min(...own.filter(([os]) => os >= e).map(([os]) => os));
            expect(after - before).toBeLessThanOrEqual(mergeGap);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects block starts inside the header or past cbytes with FormatError", () => {
    fc.assert(
      fc.property(
        layoutArb,
        fc.nat(),
        fc.oneof(fc.integer({ min: -100, max: -1 }), fc.integer({ min: 1, max: 100 })),
        (layout, pick, delta) => {
          const { bstarts, cbytes } = place(layout);
          const b = pick % bstarts.length;
          const dataStart = 32 + 4 * bstarts.length;
          bstarts[b] = delta < 0 ? dataStart + delta : cbytes + delta;
          expect(() => blockByteRanges(bstarts, cbytes, [b], 0, "test")).toThrow(FormatError);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: writeB2nd -> openB2nd(...).get(selection) == naive slice of the input

const DTYPES = [
  { make: (n: number) => new Float64Array(n).map((_, i) => Math.sin(i) * 1000) },
  { make: (n: number) => new Int32Array(n).map((_, i) => (i * 7919) % 1001) },
  { make: (n: number) => new Uint8Array(n).map((_, i) => (i * 31) & 0xff) },
  { make: (n: number) => new Int16Array(n).map((_, i) => i - 300) },
  { make: (n: number) => new Float32Array(n).map((_, i) => i / 3) },
  { make: (n: number) => new BigInt64Array(n).map((_, i) => BigInt(i) * 1000000007n) },
] as const;

const CODECS = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] as const;
const FILTER_SETS = [[], ["shuffle"], ["bitshuffle"], ["delta"], ["shuffle", "bytedelta"]] as const;

const e2eArb = fc
  .integer({ min: 0, max: 4 })
  .chain((ndim) =>
    fc.tuple(
      ...Array.from({ length: ndim }, () =>
        fc.integer({ min: 0, max: ndim <= 2 ? 40 : ndim === 3 ? 12 : 7 }).chain((size) =>
          (size === 0 ? fc.constant(0) : fc.integer({ min: 1, max: size + 3 })).chain((chunk) =>
            (chunk === 0 ? fc.constant(0) : fc.integer({ min: 1, max: chunk })).map((block) => ({
              size,
              chunk,
              block,
            })),
          ),
        ),
      ),
    ),
  )
  .chain((dims) => {
    const shape = dims.map((d) => d.size);
    return fc.record({
      dims: fc.constant(dims),
      dtype: fc.integer({ min: 0, max: DTYPES.length - 1 }),
      codec: fc.constantFrom(...CODECS),
      clevel: fc.integer({ min: 0, max: 9 }),
      filters: fc.integer({ min: 0, max: FILTER_SETS.length - 1 }),
      mergeGap: fc.constantFrom(0, 8, 65536),
      concurrency: fc.integer({ min: 1, max: 4 }),
      selections: fc.array(selectionArb(shape), { minLength: 1, maxLength: 3 }),
    });
  });

describe("writeB2nd -> get", () => {
  it("equals a naive slice of the input for random arrays and selections", async () => {
    await fc.assert(
      fc.asyncProperty(e2eArb, async (c) => {
        const shape = c.dims.map((d) => d.size);
        const data = DTYPES[c.dtype]!.make(prod(shape));
        const frame = await writeB2nd(data, shape, {
          chunkShape: c.dims.map((d) => d.chunk),
          blockShape: c.dims.map((d) => d.block),
          codec: c.codec,
          clevel: c.clevel,
          filters: [...FILTER_SETS[c.filters]!],
        });
        const arr = await openB2nd(frame, { mergeGap: c.mergeGap, concurrency: c.concurrency });
        expect(arr.shape).toEqual(shape);
        const strides = shape.map((_, d) => prod(shape.slice(d + 1)));
        for (const selection of c.selections) {
          const { idx, keep } = refIndices(selection, shape);
          const expected: (number | bigint)[] = [];
          forEachPoint(idx, (p) => {
            expected.push(data[p.reduce((a, i, d) => a + i * strides[d]!, 0)]!);
          });
          const got = await arr.get(selection);
          const wantShape = idx.filter((_, d) => keep[d]).map((l) => l.length);
          expect(got.shape).toEqual(wantShape);
          expect(got.stride).toEqual(wantShape.map((_, d) => prod(wantShape.slice(d + 1))));
          expect(got.data.constructor).toBe(data.constructor);
          expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(expected);
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
