// Finds simple conditions on dimension columns in a SQL query, so they can be pushed into the
// read before DuckDB sees the table. Deliberately conservative: it only looks at queries over
// one table with a single WHERE made of AND-ed terms (`dim BETWEEN a AND b`, `dim >= a`,
// `a < dim`, `dim = a` with numeric literals), and gives up (undefined) on anything else —
// OR, NOT, subqueries, joins, set operations, CTEs, string literals or comments. Pushing a
// subset of AND-ed conjuncts is always safe: DuckDB still evaluates the whole WHERE.
import type { Where } from "./where.js";

type Bounds = { eq?: number; gt?: number; gte?: number; lt?: number; lte?: number };

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const COL = String.raw`(?:[A-Za-z_][\w$]*\.)?(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))`;
const BETWEEN = new RegExp(String.raw`^${COL}\s+BETWEEN\s+(${NUM})\s+AND\s+(${NUM})$`, "i");
const COL_OP_NUM = new RegExp(String.raw`^${COL}\s*(>=|<=|==|=|>|<)\s*(${NUM})$`, "i");
const NUM_OP_COL = new RegExp(String.raw`^(${NUM})\s*(>=|<=|==|=|>|<)\s*${COL}$`, "i");
const FLIP: Record<string, string> = {
  ">=": "<=",
  "<=": ">=",
  ">": "<",
  "<": ">",
  "=": "=",
  "==": "=",
};

function words(sql: string, word: string): number {
  return (sql.match(new RegExp(String.raw`\b${word}\b`, "gi")) ?? []).length;
}

function colName(quoted: string | undefined, bare: string | undefined): string {
  return quoted !== undefined ? quoted.replaceAll('""', '"') : bare!;
}

function tighten(b: Bounds, op: string, v: number): void {
  switch (op) {
    case "=":
    case "==":
      b.eq = v;
      break;
    case ">=":
      if (b.gte === undefined || v > b.gte) b.gte = v;
      break;
    case ">":
      if (b.gt === undefined || v > b.gt) b.gt = v;
      break;
    case "<=":
      if (b.lte === undefined || v < b.lte) b.lte = v;
      break;
    case "<":
      if (b.lt === undefined || v < b.lt) b.lt = v;
      break;
  }
}

/** Splits "a AND b BETWEEN x AND y AND c" into its conjuncts (BETWEEN keeps its AND). */
function conjuncts(clause: string): string[] {
  const parts = clause.split(/\s+AND\s+/i);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (/\bBETWEEN\b/i.test(p) && i + 1 < parts.length) {
      out.push(`${p} AND ${parts[++i]!.trim()}`);
    } else out.push(p);
  }
  return out;
}

/**
 * The conditions on `dims` that a query over `table` applies to every row, or undefined when
 * there are none or the query is not simple enough to be sure.
 */
export function extractDimensionWhere(
  sql: string,
  table: string,
  dims: readonly string[],
): Where | undefined {
  const text = sql.trim().replace(/;\s*$/, "");
  if (/['`]|--|\/\*|;/.test(text)) return undefined;
  if (words(text, "WHERE") !== 1 || words(text, "SELECT") !== 1 || words(text, "FROM") !== 1)
    return undefined;
  for (const w of [
    "OR",
    "NOT",
    "JOIN",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "WITH",
    "USING",
    "IN",
    "IS",
    "LIKE",
  ]) {
    if (words(text, w) > 0) return undefined;
  }
  const tableRe = table.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const from = new RegExp(
    String.raw`\bFROM\s+(?:"${tableRe}"|${tableRe})(?:\s+(?:AS\s+)?[A-Za-z_]\w*)?\s+WHERE\s+([\s\S]*)$`,
    "i",
  ).exec(text);
  if (!from) return undefined;
  const clause = from[1]!.split(
    /\b(?:GROUP\s+BY|ORDER\s+BY|LIMIT|HAVING|QUALIFY|WINDOW|OFFSET)\b/i,
  )[0]!;
  if (/[()]/.test(clause)) return undefined;
  const dimSet = new Set(dims);
  const found = new Map<string, Bounds>();
  const bounds = (name: string) => {
    const b = found.get(name) ?? {};
    found.set(name, b);
    return b;
  };
  for (const term of conjuncts(clause)) {
    let m = BETWEEN.exec(term);
    if (m) {
      const name = colName(m[1], m[2]);
      if (!dimSet.has(name)) continue;
      tighten(bounds(name), ">=", Number(m[3]));
      tighten(bounds(name), "<=", Number(m[4]));
      continue;
    }
    m = COL_OP_NUM.exec(term);
    if (m) {
      const name = colName(m[1], m[2]);
      if (dimSet.has(name)) tighten(bounds(name), m[3]!, Number(m[4]));
      continue;
    }
    m = NUM_OP_COL.exec(term);
    if (m) {
      const name = colName(m[3], m[4]);
      if (dimSet.has(name)) tighten(bounds(name), FLIP[m[2]!]!, Number(m[1]));
    }
  }
  if (found.size === 0) return undefined;
  return Object.fromEntries(found);
}
