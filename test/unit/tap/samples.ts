/**
 * The public TAP/RAP sample files (../shared/tap3/ beside the repository: see its README) and a tiny
 * regex-based reader for their XML dumps, the tests' independent account of what each file holds.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { BerError } from "../../../lib/tap/ber";

const ROOT = path.resolve(__dirname, "../../..");

/** ../shared/tap3 beside the repository root (or beside a parent, for a worktree checked out below it). */
export function samplesDir(): string {
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const candidate = path.join(path.dirname(dir), "shared", "tap3");
    if (fs.existsSync(path.join(candidate, "tap_3_12_valid.ber"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no shared/tap3/ beside ${ROOT} or a parent of it`);
  }
}

export const sample = (name: string): string => path.join(samplesDir(), name);

/** One element of the XML dump: name, attributes (off, length...) and text or children. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlElement[];
}

/** Parses the dump's XML (elements, attributes in ' or ", text; no comments or CDATA in these files). */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: "#root", attrs: {}, text: "", children: [] };
  const stack = [root];
  const token = /<(\/?)(\w+)((?:\s+\w+=(?:'[^']*'|"[^"]*"))*)\s*(\/?)>|([^<]+)/g;
  for (let m = token.exec(xml); m !== null; m = token.exec(xml)) {
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += m[5].trim();
    } else if (m[1] === "/") {
      if (top.name !== m[2]) throw new Error(`XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of m[3].matchAll(/(\w+)=(?:'([^']*)'|"([^"]*)")/g)) attrs[a[1]] = a[2] ?? a[3];
      const el: XmlElement = { name: m[2], attrs, text: "", children: [] };
      top.children.push(el);
      if (m[4] !== "/") stack.push(el);
    }
  }
  return root.children[0];
}

/** All descendants named `name`, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    out.push(...findAll(c, name));
  }
  return out;
}

/** The text of the first descendant named `name` (undefined when there is none). */
export function textOf(el: XmlElement, name: string): string | undefined {
  return findAll(el, name)[0]?.text;
}

/** Collects an async iterable. */
export async function collect<V>(items: AsyncIterable<V>): Promise<V[]> {
  const out: V[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The bytes as a stream of chunks of the given sizes, cycling (boundaries fall inside tags and lengths). */
export async function* chunks(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/** The BerError `run` fails with (the test fails when it succeeds or throws something else). */
export async function failure(run: () => Promise<unknown>): Promise<BerError> {
  try {
    await run();
  } catch (err) {
    expect(err).to.be.instanceOf(BerError);
    return err as BerError;
  }
  throw new Error("expected a BerError");
}
