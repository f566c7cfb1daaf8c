/**
 * The rejects file of one TAP file (`<file>.rejects.csv`, `line,code,reason,raw`, issue 17 tapspec 4), read
 * for the RAP writer: either the one row of a file refused as a whole (line 0, a TAP_* code: a RAP fatal
 * return), or one row per rejected call event (line = the call event's position, raw = `<Kind> at byte
 * <offset>`: a RAP severe return). NOT_BILLABLE rows are counted and not returned.
 */
import { InputError } from "../core/errors";
import { readCsvWithHeader } from "../util/csv";
import { REJECT_CODES, type RejectCode } from "../usage/types";
import { isTapFatalCode, type TapFatalCode } from "./refusal";

/** One rejected call event (its rows merged when several rejects name it). */
export interface SevereReject {
  /** 1-based position in the TAP file's CallEventDetailList. */
  position: number;
  /** The call event's item name as the TAP reader wrote it ("GprsCall"). */
  kind: string;
  /** Byte offset of the call event in the TAP file. */
  offset: number;
  /** Its rejects, in file order. */
  rejects: { code: RejectCode; reason: string; line: number }[];
}

export type TapRejects =
  | { kind: "fatal"; file: string; code: TapFatalCode; reason: string; notBillable: 0 }
  | { kind: "severe"; file: string; events: SevereReject[]; notBillable: number };

/** `GprsCall at byte 508`; a call event of a kind TAP 3.12 does not define is `APPLICATION 999 at byte 508`. */
const RAW_RE = /^([A-Za-z][A-Za-z0-9]*|APPLICATION \d+) at byte (\d+)$/;
const NOT_TAP_HINT =
  'give the rejects file usage:tap or usage:ingest wrote for a TAP file (line = the call event\'s position, raw = "<CallEventKind> at byte <offset>"), not the rejects of a CSV or JSON-lines usage file.';

/** Reads and checks a TAP rejects file. */
export async function readTapRejects(file: string): Promise<TapRejects> {
  const events = new Map<number, SevereReject>();
  let fatal: { code: TapFatalCode; reason: string; line: number } | undefined;
  let rows = 0;
  let notBillable = 0;
  for await (const row of readCsvWithHeader(file, { required: ["line", "code", "reason", "raw"] })) {
    if ("error" in row) throw row.error;
    rows++;
    const at = { file, line: row.line };
    const { line: lineText, code, reason, raw } = row.record;
    if (!(REJECT_CODES as readonly string[]).includes(code)) {
      throw new InputError(`unknown reject code "${code}"`, { location: at, hint: `the codes are ${REJECT_CODES.join(", ")}.` });
    }
    if (!/^\d+$/.test(lineText)) throw new InputError(`line "${lineText}" is not a number`, { location: at, hint: NOT_TAP_HINT });
    const line = Number(lineText);
    if (isTapFatalCode(code)) {
      if (line !== 0) throw new InputError(`a ${code} reject must have line 0 (the whole file), found ${line}`, { location: at });
      fatal = { code, reason, line: row.line };
      continue;
    }
    if (code === "NOT_BILLABLE") {
      notBillable++;
      continue;
    }
    addSevere(events, { line, code: code as RejectCode, reason, raw, at });
  }
  if (fatal) {
    if (rows > 1) {
      throw new InputError(`the file has a ${fatal.code} row (the whole TAP file refused) and ${rows - 1} other row(s)`, {
        location: { file, line: fatal.line },
        hint: "a refused TAP file's rejects file has that one row only; give the rejects file of one usage:tap or usage:ingest run.",
      });
    }
    return { kind: "fatal", file, code: fatal.code, reason: fatal.reason, notBillable: 0 };
  }
  return { kind: "severe", file, events: [...events.values()].sort((a, b) => a.position - b.position), notBillable };
}

function addSevere(
  events: Map<number, SevereReject>,
  r: { line: number; code: RejectCode; reason: string; raw: string; at: { file: string; line: number } },
): void {
  const m = RAW_RE.exec(r.raw);
  if (r.line < 1 || !m) {
    throw new InputError(`line ${r.line}, raw "${r.raw.slice(0, 60)}" does not name a TAP call event`, {
      location: r.at,
      hint: NOT_TAP_HINT,
    });
  }
  const offset = Number(m[2]);
  const known = events.get(r.line);
  if (known && (known.kind !== m[1] || known.offset !== offset)) {
    throw new InputError(
      `call event ${r.line} is "${m[1]} at byte ${m[2]}" here and "${known.kind} at byte ${known.offset}" in an earlier row`,
      { location: r.at, hint: "the rows of one rejects file describe one TAP file; give an unedited rejects file." },
    );
  }
  const event = known ?? { position: r.line, kind: m[1], offset, rejects: [] };
  event.rejects.push({ code: r.code, reason: r.reason, line: r.at.line });
  events.set(r.line, event);
}
