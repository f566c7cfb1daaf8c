import { InputError } from "../../core/errors";
import { plmnMcc, plmnMnc } from "../../core/plmn";
import { usageCsvLine } from "../../tap/convert";
import { FLUSH_BYTES, TapBatchEncoder, type TapWriteSummary } from "../../tap/fromUsage";
import type { Hex } from "../../util/hex";
import { USAGE_FIELDS } from "../parse";
import type { ParsedRecord } from "../types";
import { SERVICES } from "../../core/enums";
import { BlockWriter } from "./blockWriter";
import type { Fleet } from "./fleet";
import type { Rng } from "./rng";
import type { GenerateSummary, Settings, TapGenerateOptions } from "./settings";
import { type RecordSink, type Row, type UsageFileSummary, UsageFileWriter } from "./usageFile";

/**
 * The generator's records as a TAP 3.12 file (lib/tap/fromUsage.ts), and optionally as the usage CSV that
 * reading the TAP file back gives (`usage:tap`'s lines, lib/tap/convert.ts): TAP record ids (`TAP-<sender>-<sequence>-<position>`), the one radio access
 * technology the file is read with, no latency or throughput, one message per SMS record (an SMS of N messages
 * becomes N call events and N records), and no signalling records (TAP has no such call event: left out, counted).
 * The same seed and options draw the same fleet and usage as the CSV generator does.
 */

/** ISO 3166 alpha-3 country and a usual UTC offset of some mobile country codes, for default TADIG codes. */
const COUNTRIES: Record<string, [string, string]> = {
  "204": ["NLD", "+0100"],
  "206": ["BEL", "+0100"],
  "208": ["FRA", "+0100"],
  "214": ["ESP", "+0100"],
  "222": ["ITA", "+0100"],
  "228": ["CHE", "+0100"],
  "232": ["AUT", "+0100"],
  "234": ["GBR", "+0000"],
  "238": ["DNK", "+0100"],
  "240": ["SWE", "+0100"],
  "242": ["NOR", "+0100"],
  "244": ["FIN", "+0200"],
  "260": ["POL", "+0100"],
  "262": ["DEU", "+0100"],
  "268": ["PRT", "+0000"],
  "310": ["USA", "-0500"],
  "302": ["CAN", "-0500"],
  "334": ["MEX", "-0600"],
  "404": ["IND", "+0530"],
  "440": ["JPN", "+0900"],
  "450": ["KOR", "+0900"],
  "460": ["CHN", "+0800"],
  "505": ["AUS", "+1000"],
  "724": ["BRA", "-0300"],
  "722": ["ARG", "-0300"],
};

/**
 * A TADIG-shaped code for a network: the country's alpha-3 code (from the MCC; for an MCC not in the table, its
 * digits as letters A-J, then X) and the MNC's last two digits. 262-01 -> DEU01, 724-05 -> BRA05.
 */
export function defaultTadig(plmnText: string): string {
  const mcc = plmnMcc(plmnText);
  const country = COUNTRIES[mcc]?.[0] ?? [...mcc].map((d) => String.fromCharCode(65 + Number(d))).join("");
  return `${country}${plmnMnc(plmnText).slice(-2).padStart(2, "0")}`;
}

/** The visited network's usual UTC offset, or +0000 for an MCC not in the table. */
export function defaultUtcOffset(plmnText: string): string {
  return COUNTRIES[plmnMcc(plmnText)]?.[1] ?? "+0000";
}

/** The TAP writer for the generator's settings; throws InputError for a TAP option it cannot honour. */
export function tapEncoderFor(s: Settings, tap: TapGenerateOptions): TapBatchEncoder {
  try {
    return newEncoder(s, tap);
  } catch (err) {
    // The generator's option is `sequence`.
    if (!(err instanceof InputError) || err.location?.param !== "fileSequenceNumber") throw err;
    throw new InputError(err.problem, { location: { param: "sequence" }, hint: err.hint });
  }
}

function newEncoder(s: Settings, tap: TapGenerateOptions): TapBatchEncoder {
  return new TapBatchEncoder({
    sender: tap.sender ?? defaultTadig(s.visitedText),
    recipient: tap.recipient ?? defaultTadig(s.homeText),
    fileSequenceNumber: tap.sequence ?? 1,
    // The first second after the period, so the same seed gives the same bytes.
    created: new Date(Date.UTC(s.year, s.month, 1)),
    utcOffset: tap.utcOffset ?? defaultUtcOffset(s.visitedText),
    testData: tap.testData,
    rat: tap.rat ?? "lte",
  });
}

/** A record's quantities before they are set. */
const NO_USAGE = { startTime: 0, duration: 0, bytesUp: 0, bytesDown: 0, events: 0, latencyMs: 0, throughputKbps: 0 };

/** Takes the generator's rows, writes them as call events (and CSV lines). */
class TapRecordSink implements RecordSink {
  signallingLeftOut = 0;
  private readonly rat: number;
  private readonly record: ParsedRecord;

  constructor(
    s: Settings & { home: Hex; visited: Hex },
    private readonly encoder: TapBatchEncoder,
    private readonly out: BlockWriter,
    private readonly csv?: BlockWriter,
  ) {
    this.rat = encoder.rat;
    this.record = { line: 0, recordId: "", imsi: "", home: s.home, visited: s.visited, service: 0, rat: this.rat, ...NO_USAGE };
  }

  start(): void {
    this.out.writeBytes(this.encoder.head());
    this.csv?.write(`${USAGE_FIELDS.join(",")}\n`);
  }

  add(row: Row): number {
    if (row.service === "signalling") {
      this.signallingLeftOut++;
      return 0;
    }
    const n = row.service === "sms" ? row.events : 1;
    const r = this.record;
    r.imsi = row.imsi;
    r.service = SERVICES.indexOf(row.service);
    r.startTime = row.startTime;
    r.duration = row.duration;
    r.bytesUp = row.up;
    r.bytesDown = row.down;
    r.events = row.service === "sms" ? 1 : 0;
    for (let k = 0; k < n; k++) {
      r.recordId = this.encoder.nextRecordId();
      r.line++;
      this.encoder.add(r);
      this.csv?.write(usageCsvLine(r));
    }
    return n;
  }

  flush(): boolean {
    if (this.encoder.pending < FLUSH_BYTES) return false;
    this.out.writeBytes(this.encoder.take());
    return true;
  }

  finish(): TapWriteSummary {
    this.out.writeBytes(this.encoder.take());
    this.out.writeBytes(this.encoder.tail());
    return this.encoder.summary();
  }
}

/** Writes the TAP file (and the CSV beside it); both appear only when complete. */
export function writeTapUsageFile(
  from: { settings: Settings & { home: Hex; visited: Hex }; fleet: Fleet; rng: Rng },
  out: { file: string; encoder: TapBatchEncoder; csvOut?: string; onProgress?: (lines: number) => void },
): UsageFileSummary & { tap: NonNullable<GenerateSummary["tap"]> } {
  const write = (csv?: BlockWriter) =>
    BlockWriter.writeFile(out.file, (writer) => {
      const sink = new TapRecordSink(from.settings, out.encoder, writer, csv);
      const usage = new UsageFileWriter(from, { writer, onProgress: out.onProgress, sink }).write();
      const tap = { ...sink.finish(), signallingLeftOut: sink.signallingLeftOut, csvFile: out.csvOut };
      return { ...usage, tap };
    });
  const csvOut = out.csvOut;
  return csvOut === undefined ? write() : BlockWriter.writeFile(csvOut, (csv) => write(csv));
}
