import fs from "node:fs";
import { InputError } from "../core/errors";

/**
 * Reads and parses a JSON input file. A missing file or a syntax error is an InputError naming the
 * file (and the line of the syntax error); `what` says what the file is ("policies", "agreement terms").
 * Returns the parsed value and the raw text (to locate a value with {@link lineOfPath}).
 */
export function readJsonFile(file: string, what: string): { value: unknown; text: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (cause) {
    throw new InputError(`cannot read the ${what} file`, { location: { file }, cause, hint: "check the path." });
  }
  try {
    return { value: JSON.parse(text.replace(/^\uFEFF/, "")), text };
  } catch (cause) {
    const m = /position (\d+)/.exec(String(cause));
    const line = m ? text.slice(0, Number(m[1])).split("\n").length : undefined;
    throw new InputError(`not valid JSON: ${(cause as Error).message}`, {
      location: { file, line },
      cause,
      hint: "fix the JSON syntax at that line.",
    });
  }
}

/** Where a value sits in a JSON document: member names and array indexes, e.g. ["rates", 1, "perMb"]. */
export type JsonPath = readonly (string | number)[];

/**
 * 1-based line of the value at `path` in a valid JSON text (of its key, for an object member), for error
 * messages. When the path does not exist all the way down (a missing field), the line of the deepest part
 * that does, the document itself at least; undefined only for a text with no value.
 */
export function lineOfPath(text: string, path: JsonPath): number | undefined {
  const at = new JsonScanner(text).offsetOf(path);
  return at === undefined ? undefined : text.slice(0, at).split("\n").length;
}

/** Just enough of a JSON tokenizer to find where a path's value starts, without a full parser. */
class JsonScanner {
  private i = 0;

  constructor(private readonly text: string) {}

  offsetOf(path: JsonPath): number | undefined {
    this.skipWs();
    let found = this.i < this.text.length ? this.i : undefined;
    for (const step of path) {
      const at = typeof step === "string" ? this.findMember(step) : this.findElement(step);
      if (at === undefined) return found;
      found = at;
    }
    return found;
  }

  /** In the object at the cursor, moves to the value of `name`; returns where its key starts. */
  private findMember(name: string): number | undefined {
    if (!this.enter("{")) return undefined;
    while (this.more("}")) {
      const keyAt = this.i;
      this.skipString();
      const key: unknown = JSON.parse(this.text.slice(keyAt, this.i));
      this.skipWs();
      this.i++; // ':'
      this.skipWs();
      if (key === name) return keyAt;
      this.skipValue();
      this.skipComma();
    }
    return undefined;
  }

  /** In the array at the cursor, moves to element `index`; returns where it starts. */
  private findElement(index: number): number | undefined {
    if (!this.enter("[")) return undefined;
    for (let n = 0; this.more("]"); n++) {
      if (n === index) return this.i;
      this.skipValue();
      this.skipComma();
    }
    return undefined;
  }

  private enter(open: string): boolean {
    this.skipWs();
    if (this.text[this.i] !== open) return false;
    this.i++;
    this.skipWs();
    return true;
  }

  private more(close: string): boolean {
    this.skipWs();
    return this.i < this.text.length && this.text[this.i] !== close;
  }

  private skipComma(): void {
    this.skipWs();
    if (this.text[this.i] === ",") this.i++;
  }

  private skipWs(): void {
    while (this.i < this.text.length && " \t\n\r\uFEFF".includes(this.text[this.i])) this.i++;
  }

  private skipString(): void {
    this.i++; // opening quote
    while (this.i < this.text.length && this.text[this.i] !== '"') this.i += this.text[this.i] === "\\" ? 2 : 1;
    this.i++; // closing quote
  }

  private skipValue(): void {
    this.skipWs();
    const c = this.text[this.i];
    if (c === '"') {
      this.skipString();
      return;
    }
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      this.i++;
      while (this.more(close)) {
        if (c === "{") {
          this.skipString();
          this.skipWs();
          this.i++; // ':'
        }
        this.skipValue();
        this.skipComma();
      }
      this.i++;
      return;
    }
    while (this.i < this.text.length && !",}] \t\n\r".includes(this.text[this.i])) this.i++; // number or literal
  }
}
