import { FIELD_COUNT, FIELD_INDEX } from "./fields";
import { countCommas, splitQuoted } from "./quoted";
import { describe, jsonCount, NUM_EMPTY, NUM_INVALID, parseDigits } from "./values";

// What a field holds on the current line.
const ABSENT = 0;
const TEXT = 1; // src[f].slice(st[f], en[f]), possibly empty
const NUMBER = 2; // a JSON number, in num[f]
const OTHER = 3; // another JSON value, in other[f]

/**
 * The fields of the line being parsed, by field index (USAGE_FIELDS), read in place: an unquoted CSV
 * line is split into offsets of the line itself, so that a valid line costs no string per field. The
 * split methods return what is wrong with the line's layout, or undefined.
 */
export class LineFields {
  private readonly kind = new Uint8Array(FIELD_COUNT);
  private readonly src: string[] = new Array<string>(FIELD_COUNT).fill("");
  private readonly st = new Int32Array(FIELD_COUNT);
  private readonly en = new Int32Array(FIELD_COUNT);
  private readonly num = new Float64Array(FIELD_COUNT);
  private readonly other: unknown[] = new Array<unknown>(FIELD_COUNT).fill(undefined);

  /** @param columnField for CSV: the field index of each column, in file order. */
  constructor(private readonly columnField: Int32Array) {}

  /** Splits a CSV line at its commas (quoted fields too); what is wrong, or undefined. */
  splitCsv(text: string): string | undefined {
    if (text.indexOf('"') !== -1) return this.splitQuotedCsv(text);
    const { kind, src, st, en } = this;
    const cols = this.columnField;
    const n = cols.length;
    let start = 0;
    for (let c = 0; c < n; c++) {
      const f = cols[c];
      const comma = text.indexOf(",", start);
      kind[f] = TEXT;
      src[f] = text;
      st[f] = start;
      if (c === n - 1) {
        if (comma !== -1) return this.columnCountProblem(n + countCommas(text, comma + 1) + 1);
        en[f] = text.length;
      } else {
        if (comma === -1) return this.columnCountProblem(c + 1);
        en[f] = comma;
        start = comma + 1;
      }
    }
    return undefined;
  }

  private splitQuotedCsv(text: string): string | undefined {
    const fields = splitQuoted(text);
    if (typeof fields === "string") return `bad quoting: ${fields}`;
    const cols = this.columnField;
    if (fields.length !== cols.length) return this.columnCountProblem(fields.length);
    for (let c = 0; c < cols.length; c++) {
      const f = cols[c];
      this.kind[f] = TEXT;
      this.src[f] = fields[c];
      this.st[f] = 0;
      this.en[f] = fields[c].length;
    }
    return undefined;
  }

  private columnCountProblem(found: number): string {
    return `expected ${this.columnField.length} fields as in the header, found ${found} (quote a value that contains a comma)`;
  }

  /** Reads a JSON line holding one record object; what is wrong, or undefined. */
  readJson(text: string): string | undefined {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      return `not valid JSON: ${(err as Error).message}`;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      return 'not a JSON object: each line holds one record as {"recordId": ..., ...}';
    }
    const unknown = this.takeObject(obj as Record<string, unknown>);
    if (unknown.length === 0) return undefined;
    return `unknown field${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`;
  }

  /** Takes the fields of a parsed JSON object; returns the unknown keys. */
  private takeObject(obj: Record<string, unknown>): string[] {
    const { kind, src, st, en, num, other } = this;
    kind.fill(ABSENT);
    const unknown: string[] = [];
    for (const key in obj) {
      const f = FIELD_INDEX.get(key);
      if (f === undefined) {
        unknown.push(key);
        continue;
      }
      const value = obj[key];
      if (typeof value === "string") {
        kind[f] = TEXT;
        src[f] = value;
        st[f] = 0;
        en[f] = value.length;
      } else if (typeof value === "number") {
        kind[f] = NUMBER;
        num[f] = value;
      } else if (value !== null) {
        kind[f] = OTHER;
        other[f] = value;
      }
    }
    return unknown;
  }

  /** The value of field f as a string (for messages; and the record id and IMSI). */
  text(f: number): string {
    return this.src[f].slice(this.st[f], this.en[f]);
  }

  /** Field f's text and where it is in it: text f is `source.slice(start, end)` (no copy). */
  source(f: number): string {
    return this.src[f];
  }
  start(f: number): number {
    return this.st[f];
  }
  end(f: number): number {
    return this.en[f];
  }

  /** True when field f is text (in JSON, a string). */
  isText(f: number): boolean {
    return this.kind[f] === TEXT;
  }

  /** True when field f starts with `s`. */
  startsWith(f: number, s: string): boolean {
    return this.en[f] - this.st[f] >= s.length && this.src[f].startsWith(s, this.st[f]);
  }

  /** True when field f is exactly `s`. */
  is(f: number, s: string): boolean {
    const a = this.st[f];
    return this.en[f] - a === s.length && this.src[f].startsWith(s, a);
  }

  /** Field f as written, quoted, short (for messages). */
  shown(f: number): string {
    const k = this.kind[f];
    return describe(k === TEXT ? this.text(f) : k === NUMBER ? this.num[f] : k === OTHER ? this.other[f] : undefined);
  }

  /** True when field f has a value (an empty CSV field or JSON null has none). */
  present(f: number): boolean {
    const k = this.kind[f];
    return k === NUMBER || k === OTHER || (k === TEXT && this.en[f] > this.st[f]);
  }

  /** Index of field f's value in `names` (exact, else ignoring case), or -1. */
  oneOf(f: number, names: readonly string[], index: ReadonlyMap<string, number>): number {
    for (let k = 0; k < names.length; k++) if (this.is(f, names[k])) return k;
    return index.get(this.text(f).toLowerCase()) ?? -1;
  }

  /** Field f as a count: >= 0 (0 when an optional one is absent or empty), or a NUM_ code. */
  count(f: number): number {
    const k = this.kind[f];
    if (k === TEXT) {
      const n = parseDigits(this.src[f], this.st[f], this.en[f]);
      return n === NUM_EMPTY ? 0 : n;
    }
    if (k === NUMBER) return jsonCount(this.num[f]);
    return k === ABSENT ? 0 : NUM_INVALID;
  }
}
