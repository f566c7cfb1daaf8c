import { keccak256 } from "ethers";
import { poseidon1 } from "poseidon-lite/poseidon1";
import { rpc } from "./node";

/**
 * The third member's eyes: what a competing carrier learns about a pair with nothing but its own node's
 * standard JSON-RPC, and which of the pair's secrets that gives away. The probe knows nothing of
 * RoamLedger's contracts: it takes their addresses, a block range and the secrets, so the same probe runs
 * against today's contracts and against the confidential redesign.
 *
 * What it reads (collectObservations):
 * - every log of the contracts (`eth_getLogs`): each topic and the data;
 * - every transaction input sent to them (`eth_getBlockByNumber` with transactions);
 * - every storage slot of theirs that a transaction of the range wrote, read at the latest block
 *   (`eth_getStorageAt`). Which slots were written comes from `debug_traceTransaction`, only for that:
 *   the prestateTracer's diff mode where the node has it (anvil, geth), else the SSTOREs of the struct logs
 *   (Besu, Hardhat), followed through CALL, DELEGATECALL and CREATE frames.
 *
 * How a secret is found (analyse), in any of those byte strings:
 * - in clear: big-endian at any of its natural widths (its minimal byte length up to 32 bytes) at any byte
 *   offset; the widest run of leading zeros is reported, as "word" when it is a whole 32-byte word on the
 *   ABI's word boundaries, else as "uintN@offset";
 * - hashed: keccak256 of the value as a uint256 word and as packed at each natural width, and Poseidon
 *   (BN254, poseidon-lite) of the value, as a 32-byte word at any offset.
 *
 * Small values (below 2^24 by default) also occur as ABI offsets, lengths, counters, enums and in the
 * leading bytes of unrelated numbers, so an occurrence alone proves nothing. Two rules keep the report sound:
 * - in clear, a small value counts only with at least `smallMinWidth` bytes (4 by default) of leading zeros
 *   and value together, so a lone byte 0x02 inside a hash is not "found";
 * - in clear, a small value whose own bytes straddle a 32-byte word boundary does not count: it is a word's
 *   tail (a length, a counter) and the next word's first byte (of a hash), not a field;
 * - the control run: the same scenario played again on fresh contracts with different secrets. A small
 *   secret is reported only when its value occurs more often in its own run than in the control run, where
 *   it is not a secret, by more than 2 * sqrt(control count): structure (offsets, lengths, counters, enums)
 *   is the same in both runs and cancels out, and the margin absorbs the few chance occurrences of tiny
 *   values that run-specific data (hashes, amounts, other secrets' bytes) brings. Without a control run, small secrets are listed as unchecked, never as found.
 * Large values are reported on any occurrence. Zero is never searched, and a secret equal to a value public
 * by design (`publicValues`, e.g. a settled net) is skipped: nothing can tell them apart.
 */

// ------------------------------------------------------------------ types

export interface Secret {
  /** What it is, e.g. "terms v1: perMb class 1". */
  label: string;
  value: bigint;
}

export type Channel = "log" | "input" | "storage";

/** One byte string the third member read, and where. */
export interface Observation {
  channel: Channel;
  contract: string;
  /** Human-readable place: "log 3 of tx 0x.. topic 2", "input of tx 0x..", "slot 0x.. ". */
  where: string;
  bytes: Uint8Array;
  /** Offset of the first ABI word (4 in a transaction input, after the selector; 0 elsewhere). */
  wordBase: number;
  /**
   * Byte ranges [start, end) holding a value public by design (an address, a block time, a settled net):
   * set by {@link withPublicValues}. A small value found in clear whose own bytes fall in one is no finding.
   */
  publicRanges?: readonly (readonly [number, number])[];
}

/** One JSON-RPC call: `method` with `params`, its result. */
export type RpcCall = <T>(method: string, params: unknown[]) => Promise<T>;

/** JSON-RPC over HTTP to a node. */
export const overHttp =
  (url: string): RpcCall =>
  <T>(method: string, params: unknown[]) =>
    rpc<T>(url, method, params);

export interface ProbeScope {
  /** The third member's own node. */
  call: RpcCall;
  /** The contracts whose logs, inputs and storage are read. */
  contracts: readonly string[];
  fromBlock: number;
  toBlock: number;
}

export interface Finding {
  label: string;
  value: bigint;
  channel: Channel;
  contract: string;
  where: string;
  /** "word", "uint64@37", "keccak256(uint256)", "keccak256(uint32)", "poseidon". */
  encoding: string;
  /** For a small value: its occurrences in the control run (this run had more). */
  controlHits?: number;
}

export interface ProbeReport {
  findings: Finding[];
  /** Secrets not searched, and why. */
  skipped: { label: string; value: bigint; reason: string }[];
  /** What was read. */
  observed: Record<Channel, number>;
}

export interface AnalyseOptions {
  /** The same scenario with other secrets, on other contracts: see the file header. */
  control?: readonly Observation[];
  /** Values public by design (settled nets, ...): a secret equal to one is skipped. */
  publicValues?: readonly bigint[];
  /** Values below this are small (default 2^24). */
  smallBelow?: bigint;
  /** Least bytes (leading zeros and value) of a small value found in clear (default 4). */
  smallMinWidth?: number;
}

/** A match of one value in one observation. */
interface Hit {
  observation: Observation;
  encoding: string;
}

// ------------------------------------------------------------------ encodings

/** `value` big-endian in `width` bytes. */
export function packed(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Bytes needed for `value` (1 for 0). */
export function byteLength(value: bigint): number {
  let n = 1;
  while (value >> BigInt(8 * n) > 0n) n++;
  return n;
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Order of the BN254 scalar field: Poseidon takes values below it. */
const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** The hashes of `value` the probe looks for: hex (no 0x) -> encoding name. */
export function hashEncodings(value: bigint): Map<string, string> {
  const out = new Map<string, string>();
  out.set(keccak256(packed(value, 32)).slice(2), "keccak256(uint256)");
  for (let w = byteLength(value); w < 32; w++) out.set(keccak256(packed(value, w)).slice(2), `keccak256(uint${8 * w})`);
  if (value < BN254_R) out.set(hexOf(packed(poseidon1([value]), 32)), "poseidon");
  return out;
}

/**
 * Where `value` occurs in clear in `bytes`: each occurrence with the widest width of leading zeros (<= 32).
 * An occurrence whose value bytes overlap one of `publicRanges` is skipped: a small value is then the
 * leading part of a public number (an address 0x01..., a net 0x0f5d...), not a field of its own.
 */
export function clearHits(
  bytes: Uint8Array,
  value: bigint,
  minWidth: number,
  wordBase: number,
  publicRanges: readonly (readonly [number, number])[] = [],
): string[] {
  const pattern = Buffer.from(packed(value, Math.max(byteLength(value), minWidth)));
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = haystack.indexOf(pattern); at >= 0; at = haystack.indexOf(pattern, at + 1)) {
    const end = at + pattern.length;
    const valueStart = end - byteLength(value);
    if (value < SMALL_VALUE && publicRanges.some(([from, to]) => valueStart < to && from < end)) continue;
    // A small value whose own bytes straddle an ABI word (or storage slot) boundary is one word's tail and
    // the next word's head, e.g. an array length 1 followed by a hash starting 0xe5 reads as 0x01e5: no
    // field of an ABI encoding or of a storage slot lies across two words.
    if (value < SMALL_VALUE && valueStart >= wordBase && Math.floor((valueStart - wordBase) / 32) !== Math.floor((end - 1 - wordBase) / 32))
      continue;
    let start = at;
    while (start > 0 && haystack[start - 1] === 0 && end - start < 32) start--;
    const width = end - start;
    out.push(width === 32 && (start - wordBase) % 32 === 0 ? "word" : `uint${8 * width}@${start}`);
  }
  return out;
}

/** The default bound of small values (see the file header). */
const SMALL_VALUE = 2n ** 24n;

/**
 * Public values from this one up mark their occurrences (see {@link withPublicValues}): three bytes or more,
 * specific enough that a small secret's own field seldom shares them; smaller ones do not.
 */
const PUBLIC_MARK_FROM = 2n ** 16n;

/**
 * `observations` with the places of `values` (public by design: addresses, block times, settled nets)
 * marked, each at its minimal byte length. Values below 2^16 mark nothing: they are too common to mark;
 * a secret equal to one is skipped by {@link analyse}'s `publicValues` instead.
 */
export function withPublicValues(observations: readonly Observation[], values: readonly bigint[]): Observation[] {
  const patterns = [...new Set(values)]
    .filter((v) => v >= PUBLIC_MARK_FROM && v < 2n ** 256n)
    .map((v) => Buffer.from(packed(v, byteLength(v))));
  return observations.map((o) => {
    const haystack = Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength);
    const ranges: (readonly [number, number])[] = [...(o.publicRanges ?? [])];
    for (const p of patterns) {
      for (let at = haystack.indexOf(p); at >= 0; at = haystack.indexOf(p, at + 1)) ranges.push([at, at + p.length]);
    }
    return { ...o, publicRanges: ranges };
  });
}

/** Every occurrence of each of `values` in `observations`, in clear and hashed (one pass over each window). */
function hitsOf(observations: readonly Observation[], values: ReadonlyMap<bigint, number>): Map<bigint, Hit[]> {
  const hashes = new Map<string, { value: bigint; encoding: string }>();
  for (const value of values.keys()) for (const [hex, encoding] of hashEncodings(value)) hashes.set(hex, { value, encoding });
  const out = new Map<bigint, Hit[]>([...values.keys()].map((v) => [v, []]));
  for (const observation of observations) {
    for (const [value, minWidth] of values) {
      for (const encoding of clearHits(observation.bytes, value, minWidth, observation.wordBase, observation.publicRanges))
        out.get(value)?.push({ observation, encoding });
    }
    const hex = hexOf(observation.bytes);
    for (let i = 0; i + 32 <= observation.bytes.length; i++) {
      const hit = hashes.get(hex.slice(2 * i, 2 * i + 64));
      if (hit) out.get(hit.value)?.push({ observation, encoding: hit.encoding });
    }
  }
  return out;
}

// ------------------------------------------------------------------ analysis

/** Why a secret is not searched, or undefined when it is. */
function skipReason(s: Secret, o: AnalyseOptions, publicValues: Set<bigint>): string | undefined {
  if (s.value <= 0n) return "zero or negative: not searchable";
  if (s.value >= 2n ** 256n) return "wider than 256 bits";
  if (publicValues.has(s.value)) return "equal to a value public by design";
  if (s.value < (o.smallBelow ?? 2n ** 24n) && !o.control) return "small value and no control run: unchecked";
  return undefined;
}

/** The hits of each value that count: all of a large value's; a small value's only when above the control's. */
function countedHits(observations: readonly Observation[], values: Map<bigint, number>, o: AnalyseOptions) {
  const smallBelow = o.smallBelow ?? 2n ** 24n;
  const hits = hitsOf(observations, values);
  const small = new Map([...values].filter(([v]) => v < smallBelow));
  const control = o.control ? hitsOf(o.control, small) : new Map<bigint, Hit[]>();
  const out = new Map<bigint, { hits: Hit[]; controlHits?: number }>();
  for (const [value, found] of hits) {
    const controlHits = control.get(value)?.length;
    // Run-specific data (hashes, amounts) shifts the counts of tiny values a little: a Poisson-style margin.
    const below = controlHits !== undefined && found.length <= controlHits + 2 * Math.sqrt(controlHits);
    out.set(value, { hits: below ? [] : found, controlHits });
  }
  return out;
}

/**
 * What `observations` give away of `secrets` (see the file header for the method). Pure: the unit tests
 * feed it planted observations.
 */
export function analyse(observations: readonly Observation[], secrets: readonly Secret[], o: AnalyseOptions = {}): ProbeReport {
  const publicValues = new Set(o.publicValues ?? []);
  const smallBelow = o.smallBelow ?? 2n ** 24n;
  const report: ProbeReport = { findings: [], skipped: [], observed: { log: 0, input: 0, storage: 0 } };
  for (const obs of observations) report.observed[obs.channel]++;
  const searched = secrets.filter((s) => {
    const reason = skipReason(s, o, publicValues);
    if (reason) report.skipped.push({ label: s.label, value: s.value, reason });
    return !reason;
  });
  // Least width in clear per distinct value: see the file header.
  const values = new Map(searched.map((s) => [s.value, s.value < smallBelow ? (o.smallMinWidth ?? 4) : 1]));
  const counted = countedHits(observations, values, o);
  for (const s of searched) {
    const { hits, controlHits } = counted.get(s.value) ?? { hits: [] };
    for (const { observation: x, encoding } of hits) {
      report.findings.push({
        label: s.label,
        value: s.value,
        channel: x.channel,
        contract: x.contract,
        where: x.where,
        encoding,
        controlHits,
      });
    }
  }
  return report;
}

/** The labels with at least one finding. */
export function leakedLabels(report: ProbeReport): Set<string> {
  return new Set(report.findings.map((f) => f.label));
}

/** One line per leaked secret: value, hits per channel, encodings, and one place it was found. */
export function findingsTable(report: ProbeReport): string {
  const rows = new Map<string, Finding[]>();
  for (const f of report.findings) rows.set(f.label, [...(rows.get(f.label) ?? []), f]);
  const lines = [...rows].map(([label, fs]) => {
    const channels = (["log", "input", "storage"] as const)
      .map((c) => [c, fs.filter((f) => f.channel === c).length] as const)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} x${n}`)
      .join(", ");
    const encodings = [...new Set(fs.map((f) => f.encoding.replace(/@\d+$/, "")))].join(" ");
    const control = fs[0].controlHits === undefined ? "" : ` (control ${fs[0].controlHits})`;
    return `${label.padEnd(44)} ${String(fs[0].value).padStart(14)}  ${channels}${control}  [${encodings}]  e.g. ${fs[0].where}`;
  });
  const o = report.observed;
  const head = `third member read ${o.log} log parts, ${o.input} inputs, ${o.storage} storage slots; ${rows.size} secrets leaked, ${report.skipped.length} skipped`;
  return [head, ...lines].join("\n");
}

// ------------------------------------------------------------------ collection over JSON-RPC

const toHex = (n: number) => `0x${n.toString(16)}`;
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, "").padStart(2, "0"), "hex"));

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  transactionHash: string;
  logIndex: string;
}

interface RpcTransaction {
  hash: string;
  to: string | null;
  input: string;
}

/** Every log of the scope's contracts: one observation per topic and one for the data. */
async function logObservations(scope: ProbeScope): Promise<Observation[]> {
  const out: Observation[] = [];
  const step = 5_000;
  for (let from = scope.fromBlock; from <= scope.toBlock; from += step) {
    const to = Math.min(scope.toBlock, from + step - 1);
    const logs = await scope.call<RpcLog[]>("eth_getLogs", [{ address: scope.contracts, fromBlock: toHex(from), toBlock: toHex(to) }]);
    for (const log of logs) {
      const at = `log ${Number(log.logIndex)} of tx ${log.transactionHash}`;
      const contract = log.address.toLowerCase();
      log.topics.forEach((t, i) => {
        out.push({ channel: "log", contract, where: `${at} topic ${i}`, bytes: fromHex(t), wordBase: 0 });
      });
      out.push({ channel: "log", contract, where: `${at} data`, bytes: fromHex(log.data), wordBase: 0 });
    }
  }
  return out;
}

/** Every transaction of the range (to trace), and the inputs of those sent to the scope's contracts. */
async function transactions(scope: ProbeScope): Promise<{ hashes: string[]; inputs: Observation[] }> {
  const contracts = new Set(scope.contracts.map((c) => c.toLowerCase()));
  const hashes: string[] = [];
  const inputs: Observation[] = [];
  for (let n = scope.fromBlock; n <= scope.toBlock; n++) {
    const block = await scope.call<{ transactions: RpcTransaction[] } | null>("eth_getBlockByNumber", [toHex(n), true]);
    for (const tx of block?.transactions ?? []) {
      hashes.push(tx.hash);
      const to = tx.to?.toLowerCase();
      if (to && contracts.has(to)) {
        inputs.push({ channel: "input", contract: to, where: `input of tx ${tx.hash}`, bytes: fromHex(tx.input), wordBase: 4 });
      }
    }
  }
  return { hashes, inputs };
}

type Written = Map<string, Set<string>>;

function addWrite(written: Written, address: string, slot: string): void {
  const key = address.toLowerCase();
  written.set(key, (written.get(key) ?? new Set()).add(`0x${slot.replace(/^0x/, "").padStart(64, "0")}`));
}

/** Adds the slots a transaction wrote, by the prestateTracer's diff mode; false when the node lacks that tracer. */
async function prestateWrites(call: RpcCall, hash: string, written: Written): Promise<boolean> {
  type Diff = Record<string, { storage?: Record<string, string> }>;
  let diff: { pre: Diff; post: Diff };
  try {
    diff = await call("debug_traceTransaction", [hash, { tracer: "prestateTracer", tracerConfig: { diffMode: true } }]);
  } catch {
    return false;
  }
  if (!diff?.pre || !diff.post) return false;
  for (const side of [diff.pre, diff.post]) {
    for (const [address, account] of Object.entries(side)) {
      for (const slot of Object.keys(account.storage ?? {})) addWrite(written, address, slot);
    }
  }
  return true;
}

interface StructLog {
  op: string;
  depth: number;
  stack?: string[];
}

/** Where a frame writes: known now, or a contract being created (known once its frame returns). */
interface Frame {
  address?: string;
  slots: string[];
}

const stackWord = (stack: string[], fromTop: number) => BigInt(`0x${stack[stack.length - 1 - fromTop].replace(/^0x/, "")}`);
const asAddress = (word: bigint) => `0x${word.toString(16).padStart(40, "0").slice(-40)}`;

/** The frame a call opcode opens, or undefined for an opcode that opens none. */
function openedFrame(op: string, stack: string[], current: Frame): Frame | undefined {
  if (op === "CALL" || op === "STATICCALL") return { address: asAddress(stackWord(stack, 1)), slots: [] };
  if (op === "DELEGATECALL" || op === "CALLCODE") return current;
  if (op === "CREATE" || op === "CREATE2") return { slots: [] };
  return undefined;
}

/** The slots a transaction wrote, from the SSTOREs of its struct logs, frame by frame. */
async function structLogWrites(call: RpcCall, hash: string, written: Written): Promise<void> {
  const [trace, receipt, tx] = await Promise.all([
    call<{ structLogs: StructLog[] }>("debug_traceTransaction", [hash, { disableMemory: true, disableStorage: true, disableStack: false }]),
    call<{ contractAddress: string | null }>("eth_getTransactionReceipt", [hash]),
    call<RpcTransaction>("eth_getTransactionByHash", [hash]),
  ]);
  const frames: Frame[] = [{ address: tx.to ?? receipt.contractAddress ?? undefined, slots: [] }];
  const all = [...frames];
  let opening: Frame | undefined;
  for (const log of trace.structLogs) {
    if (opening && log.depth === frames.length + 1) frames.push(opening);
    opening = undefined;
    while (frames.length > log.depth) {
      const done = frames.pop() as Frame;
      // A CREATE's frame returned: the new contract's address is on top of the caller's stack.
      if (!done.address && log.stack?.length) done.address = asAddress(stackWord(log.stack, 0));
    }
    const current = frames[frames.length - 1];
    if (log.op === "SSTORE" && log.stack) current.slots.push(stackWord(log.stack, 0).toString(16));
    opening = log.stack ? openedFrame(log.op, log.stack, current) : undefined;
    if (opening && opening !== current) all.push(opening);
  }
  for (const f of all) if (f.address) for (const slot of f.slots) addWrite(written, f.address, slot);
}

/** Storage slots of the scope's contracts written by `hashes`, with their values at the latest block. */
async function storageObservations(scope: ProbeScope, hashes: readonly string[]): Promise<Observation[]> {
  const written: Written = new Map();
  let prestate = true;
  for (const hash of hashes) {
    if (prestate) prestate = await prestateWrites(scope.call, hash, written);
    if (!prestate) await structLogWrites(scope.call, hash, written);
  }
  const out: Observation[] = [];
  for (const contract of scope.contracts.map((c) => c.toLowerCase())) {
    for (const slot of written.get(contract) ?? []) {
      const value = fromHex(await scope.call<string>("eth_getStorageAt", [contract, slot, "latest"]));
      if (value.some((b) => b !== 0))
        out.push({ channel: "storage", contract, where: `slot ${slot} of ${contract}`, bytes: value, wordBase: 0 });
    }
  }
  return out;
}

/** Everything the third member reads of the scope's contracts: logs, inputs, written storage. */
export async function collectObservations(scope: ProbeScope): Promise<Observation[]> {
  const { hashes, inputs } = await transactions(scope);
  return [...(await logObservations(scope)), ...inputs, ...(await storageObservations(scope, hashes))];
}
