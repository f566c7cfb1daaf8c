/**
 * Reading a small group (BatchControlInfo, AccountingInfo, NetworkInfo, AuditControlInfo, RAP control info)
 * read whole as a tree: typed getters that fail with the byte offset and the item's name.
 */
import { type BerHeader, type BerNode, type BerReader, decodeAscii, decodeInteger } from "./ber";
import { longTimestamp, type TapTimestamp } from "./tapTime";

const FIX_HINT = "the sender's file does not follow the standard here; send it back to the sender (or its clearing house) to correct.";

export class Group {
  constructor(
    readonly header: BerHeader,
    readonly nodes: readonly BerNode[],
    private readonly reader: BerReader,
    private readonly names: ReadonlyMap<number, string>,
  ) {}

  /** The file the group was read from (for errors). */
  get file(): string | undefined {
    return this.reader.file;
  }

  name(tag: number): string {
    return this.names.get(tag) ?? `APPLICATION ${tag}`;
  }

  node(tag: number): BerNode | undefined {
    return this.nodes.find((n) => n.header.tag === tag && n.header.cls === 1);
  }

  fail(problem: string, at: BerHeader = this.header): never {
    return this.reader.fail(problem, at.offset, FIX_HINT);
  }

  private primitive(tag: number): BerNode | undefined {
    const n = this.node(tag);
    if (n && n.value === undefined) this.fail(`${this.name(tag)} must be a primitive value, not a group`, n.header);
    return n;
  }

  str(tag: number): string | undefined {
    const n = this.primitive(tag);
    return n?.value ? decodeAscii(n.value) : undefined;
  }

  int(tag: number): number | undefined {
    const n = this.primitive(tag);
    if (!n?.value) return undefined;
    return decodeInteger(n.value, () => this.fail(`${this.name(tag)} is not a valid INTEGER`, n.header));
  }

  need<V>(tag: number, get: (tag: number) => V | undefined): V {
    const v = get.call(this, tag);
    if (v === undefined) this.fail(`${this.name(this.header.tag)} has no ${this.name(tag)}, which TAP requires`);
    return v;
  }

  child(tag: number): Group | undefined {
    const n = this.node(tag);
    return n ? this.of(n) : undefined;
  }

  /** The groups with `tag` directly inside the list group `listTag` (or inside this group when omitted). */
  all(tag: number, listTag?: number): Group[] {
    const list = listTag === undefined ? this : this.child(listTag);
    return (list?.nodes ?? []).filter((n) => n.header.tag === tag && n.children).map((n) => this.of(n));
  }

  private of(n: BerNode): Group {
    if (!n.children) this.fail(`${this.name(n.header.tag)} must be a group, not a primitive value`, n.header);
    return new Group(n.header, n.children, this.reader, this.names);
  }

  /** A DateTimeLong (local time + its own UTC offset); fails when malformed. */
  timestamp(tag: number, localTag: number, offsetTag: number): TapTimestamp | undefined {
    const g = this.child(tag);
    if (!g) return undefined;
    const local = g.need(localTag, g.str);
    const offset = g.need(offsetTag, g.str);
    const problems: string[] = [];
    const ts = longTimestamp(local, offset, problems);
    if (problems.length > 0) this.fail(`${this.name(tag)}: ${problems.join("; ")}`, g.header);
    return ts;
  }
}
