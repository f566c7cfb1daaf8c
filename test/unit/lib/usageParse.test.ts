import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError } from "../../../lib/core/errors";
import { checkPeriod, parsePeriod } from "../../../lib/core/period";
import { imsiBelongsTo } from "../../../lib/core/imsi";
import { parsePlmn } from "../../../lib/core/plmn";
import {
  daysFromCivil,
  isReject,
  MAX_LINE_BYTES,
  parseUsageFile,
  parseUsageLine,
  USAGE_FIELDS,
  UsageLineParser,
  type ParseChunk,
  type ParseOptions,
} from "../../../lib/usage/parse";
import { RecordIdSet, recordIdHash } from "../../../lib/usage/recordIdSet";
import { csvField, RejectsWriter } from "../../../lib/usage/rejects";
import { TAP_FATAL_CODES, type TapFatalCode } from "../../../lib/tap/refusal";
import { REJECT_CODES, type ParsedRecord, type Reject, type RejectCode } from "../../../lib/usage/types";

const FIXTURES = path.join(__dirname, "..", "..", "fixtures", "usage");
const HOME = parsePlmn("262-01");
const VISITED = parsePlmn("724-05");
const PERIOD = 202611;
const OPTIONS: ParseOptions = { home: HOME, visited: VISITED, period: PERIOD };
const HEADER = USAGE_FIELDS.join(",");

/** A valid record's CSV fields, by name. */
const GOOD: Record<string, string> = {
  recordId: "r-1",
  imsi: "262010000000001",
  homePlmn: "262-01",
  visitedPlmn: "724-05",
  service: "data",
  callEventStartTimeStamp: "2026-11-03T10:15:00Z",
  totalCallEventDuration: "12",
  dataVolumeOutgoing: "300",
  dataVolumeIncoming: "120",
  eventCount: "0",
  rat: "nb-iot",
  latencyMs: "2100",
  throughputKbps: "45",
};

/** The good record as a CSV line (canonical column order) with some fields changed. */
function csv(changes: Record<string, string> = {}): string {
  const fields = { ...GOOD, ...changes };
  return USAGE_FIELDS.map((f) => fields[f]).join(",");
}

/** The good record as a JSON line with some fields changed (undefined removes one). */
function jsonl(changes: Record<string, unknown> = {}): string {
  const obj: Record<string, unknown> = {
    ...GOOD,
    totalCallEventDuration: 12,
    dataVolumeOutgoing: 300,
    dataVolumeIncoming: 120,
    eventCount: 0,
    latencyMs: 2100,
    throughputKbps: 45,
    ...changes,
  };
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return JSON.stringify(obj);
}

function line(text: string, format: "csv" | "jsonl" = "csv", extra: Partial<ParseOptions> = {}): ParsedRecord | Reject {
  return parseUsageLine(text, { ...OPTIONS, format, ...extra });
}

function rejected(outcome: ParsedRecord | Reject): Reject {
  if (!isReject(outcome)) throw new Error(`expected a reject, got record ${outcome.recordId}`);
  return outcome;
}

function accepted(outcome: ParsedRecord | Reject): ParsedRecord {
  if (isReject(outcome)) throw new Error(`expected a record, got ${outcome.code}: ${outcome.reason}`);
  return outcome;
}

const utc = (iso: string): number => Date.parse(iso) / 1000;

describe("lib/usage/parse", () => {
  let dir: string;
  let counter = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-usage-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function file(content: string | Buffer, ext = ".csv"): string {
    const name = path.join(dir, `usage-${++counter}${ext}`);
    fs.writeFileSync(name, content);
    return name;
  }

  async function parse(
    name: string,
    options: Partial<ParseOptions> = {},
  ): Promise<{ records: ParsedRecord[]; rejects: Reject[]; chunks: ParseChunk[] }> {
    const chunks: ParseChunk[] = [];
    for await (const chunk of parseUsageFile(name, { ...OPTIONS, ...options })) chunks.push(chunk);
    return { records: chunks.flatMap((c) => c.records), rejects: chunks.flatMap((c) => c.rejects), chunks };
  }

  /** The InputError parseUsageFile throws, checking that it comes before any chunk. */
  async function failure(name: string, options: Partial<ParseOptions> = {}): Promise<InputError> {
    const it = parseUsageFile(name, { ...OPTIONS, ...options });
    try {
      await it.next();
    } catch (err) {
      expect(err).to.be.instanceOf(InputError);
      expect((err as InputError).location?.file).to.equal(name);
      return err as InputError;
    }
    throw new Error("expected the first chunk to fail");
  }

  describe("parseUsageLine", () => {
    it("reads a valid CSV line into a record", () => {
      expect(line(csv())).to.deep.equal({
        line: 1,
        recordId: "r-1",
        imsi: "262010000000001",
        home: "0x62f210",
        visited: "0x27f450",
        service: 0,
        rat: 0,
        startTime: utc("2026-11-03T10:15:00Z"),
        duration: 12,
        bytesUp: 300,
        bytesDown: 120,
        events: 0,
        latencyMs: 2100,
        throughputKbps: 45,
      });
    });

    it("reads the same record from a JSON line, with numbers as numbers or digit strings", () => {
      const fromCsv = line(csv());
      expect(line(jsonl(), "jsonl")).to.deep.equal(fromCsv);
      expect(line(jsonl({ totalCallEventDuration: "12", dataVolumeOutgoing: "300" }), "jsonl")).to.deep.equal(fromCsv);
    });

    it("takes empty or absent QoS fields as 0 (not measured)", () => {
      expect(accepted(line(csv({ latencyMs: "", throughputKbps: "" })))).to.include({ latencyMs: 0, throughputKbps: 0 });
      expect(accepted(line(jsonl({ latencyMs: undefined, throughputKbps: null }), "jsonl"))).to.include({
        latencyMs: 0,
        throughputKbps: 0,
      });
      const noQosColumns = USAGE_FIELDS.slice(0, 11);
      const text = noQosColumns.map((f) => GOOD[f]).join(",");
      expect(accepted(parseUsageLine(text, { ...OPTIONS, columns: noQosColumns }))).to.include({ latencyMs: 0, throughputKbps: 0 });
    });

    it("maps every service and RAT to the contract's enum order, ignoring case", () => {
      const services = ["data", "sms", "voice", "signalling"];
      const counts = {
        data: { dataVolumeOutgoing: "1" },
        sms: { eventCount: "1", dataVolumeOutgoing: "0", dataVolumeIncoming: "0" },
        voice: { totalCallEventDuration: "5", dataVolumeOutgoing: "0", dataVolumeIncoming: "0" },
        signalling: { eventCount: "3", dataVolumeOutgoing: "0", dataVolumeIncoming: "0" },
      } as Record<string, Record<string, string>>;
      services.forEach((service, i) => {
        expect(accepted(line(csv({ service: service.toUpperCase(), rat: "lte", ...counts[service] })))).to.include({ service: i });
      });
      ["nb-iot", "lte-m", "lte", "nr", "utran", "geran"].forEach((rat, i) => {
        expect(accepted(line(csv({ rat: i % 2 ? rat.toUpperCase() : rat })))).to.include({ rat: i });
      });
    });

    it("reads timestamps with a fraction or +00:00, and computes UTC seconds by hand like Date.parse", () => {
      for (const iso of [
        "2026-11-01T00:00:00Z",
        "2026-11-30T23:59:59Z",
        "2026-11-15T12:34:56.789Z",
        "2026-11-15T12:34:56+00:00",
        "2026-11-15t12:34:56z",
      ]) {
        expect(accepted(line(csv({ callEventStartTimeStamp: iso }))).startTime).to.equal(
          Math.floor(Date.parse(iso.toUpperCase()) / 1000),
          iso,
        );
      }
      for (const [y, m, d] of [
        [1970, 1, 1],
        [2000, 2, 29],
        [2026, 11, 3],
        [2100, 3, 1],
        [9999, 12, 31],
      ]) {
        expect(daysFromCivil(y, m, d) * 86400).to.equal(Date.UTC(y, m - 1, d) / 1000);
      }
      expect(accepted(line(csv({ callEventStartTimeStamp: "2028-02-29T00:00:00Z" }), "csv", { period: 202802 })).startTime).to.equal(
        utc("2028-02-29T00:00:00Z"),
      );
    });

    it("applies the IMSI rule of lib/core/imsi.ts imsiBelongsTo, keeping 2- and 3-digit MNCs apart", () => {
      const home3 = parsePlmn("310-410");
      const opts = { home: home3, visited: VISITED };
      const ok = csv({ imsi: "310410000000001", homePlmn: "310-410" });
      expect(imsiBelongsTo("310410000000001", "310-410")).to.equal(true);
      expect(accepted(line(ok, "csv", opts)).home).to.equal(home3);
      expect(imsiBelongsTo("310041000000001", "310-410")).to.equal(false);
      expect(rejected(line(csv({ imsi: "310041000000001", homePlmn: "310-410" }), "csv", opts)).code).to.equal("WRONG_HOME_PLMN");
      // 262-01 and 262-010 are different networks.
      expect(rejected(line(csv({ homePlmn: "262-010" }))).code).to.equal("WRONG_HOME_PLMN");
    });
  });

  describe("reject codes (one fixture line each)", () => {
    const examples: Record<
      Exclude<RejectCode, "UNKNOWN_DEVICE" | "DEVICE_OF_OTHER_HOME" | "UNPRICED_CLASS" | "NOT_BILLABLE" | TapFatalCode>,
      { text: string; reason: RegExp; format?: "jsonl" }
    > = {
      MALFORMED: { text: csv().split(",").slice(0, 12).join(","), reason: /expected 13 fields as in the header, found 12/ },
      MISSING_FIELD: { text: csv({ imsi: "", rat: "" }), reason: /^missing imsi, rat$/ },
      INVALID_RECORD_ID: { text: csv({ recordId: "x".repeat(33) }), reason: /recordId is 33 characters long, at most 32/ },
      INVALID_IMSI: { text: csv({ imsi: "26201000000001" }), reason: /imsi has 14 digits, expected 15/ },
      INVALID_PLMN: { text: csv({ visitedPlmn: "72-405" }), reason: /visitedPlmn "72-405" is not a PLMN id/ },
      WRONG_HOME_PLMN: { text: csv({ homePlmn: "262-02" }), reason: /homePlmn 262-02 is not the home network of this run \(262-01\)/ },
      WRONG_VISITED_PLMN: { text: csv({ visitedPlmn: "310-410" }), reason: /visitedPlmn 310-410 is not our network \(724-05\)/ },
      INVALID_SERVICE: { text: csv({ service: "video" }), reason: /service "video" is not one of data, sms, voice, signalling/ },
      INVALID_RAT: { text: csv({ rat: "wifi" }), reason: /rat "wifi" is not one of nb-iot, lte-m, lte, nr, utran, geran/ },
      INVALID_TIMESTAMP: {
        text: csv({ callEventStartTimeStamp: "2026-11-03T10:15:00+01:00" }),
        reason: /has the offset \+01:00: write the time in UTC/,
      },
      OUTSIDE_PERIOD: { text: csv({ callEventStartTimeStamp: "2026-10-31T23:59:59Z" }), reason: /is outside the period 2026-11 \(UTC\)/ },
      INVALID_NUMBER: { text: csv({ dataVolumeIncoming: "12.5" }), reason: /dataVolumeIncoming "12.5" is not a whole number of bytes/ },
      NEGATIVE_VOLUME: { text: csv({ dataVolumeOutgoing: "-300" }), reason: /dataVolumeOutgoing is negative/ },
      ABSURD_VOLUME: {
        text: csv({ dataVolumeOutgoing: "600000000000", dataVolumeIncoming: "400000000001" }),
        reason: /1000000000001 bytes, more than 1000000000000/,
      },
      INCONSISTENT_RECORD: {
        text: csv({ service: "voice", totalCallEventDuration: "0", dataVolumeOutgoing: "0", dataVolumeIncoming: "0", rat: "lte" }),
        reason: /voice record with a duration of 0/,
      },
      DUPLICATE_RECORD_ID: { text: "", reason: /recordId repeats line 1/ },
    };

    it("covers every code the parser assigns (the ingest assigns the device codes, the TAP mapping the TAP codes)", () => {
      const others = ["UNKNOWN_DEVICE", "DEVICE_OF_OTHER_HOME", "UNPRICED_CLASS", "NOT_BILLABLE", ...TAP_FATAL_CODES];
      expect([...Object.keys(examples), ...others].sort()).to.deep.equal([...REJECT_CODES].sort());
    });

    for (const [code, example] of Object.entries(examples)) {
      it(`${code}`, () => {
        let r: Reject;
        if (code === "DUPLICATE_RECORD_ID") {
          const parser = new UsageLineParser(OPTIONS);
          accepted(parser.parse(csv(), 1));
          r = rejected(parser.parse(csv({ callEventStartTimeStamp: "2026-11-04T00:00:00Z" }), 2));
          expect(r.line).to.equal(2);
        } else {
          r = rejected(line(example.text));
        }
        expect(r.code).to.equal(code);
        expect(r.reason).to.match(example.reason);
        expect(r.raw).to.equal(code === "DUPLICATE_RECORD_ID" ? csv({ callEventStartTimeStamp: "2026-11-04T00:00:00Z" }) : example.text);
        // The reason never repeats the IMSI (personal data).
        expect(r.reason).not.to.include(GOOD.imsi);
      });
    }

    it("reads the fixture file with one line per code, in line order", async () => {
      const { records, rejects } = await parse(path.join(FIXTURES, "rejects.csv"));
      expect(rejects.map((r) => [r.line, r.code])).to.deep.equal([
        [2, "MALFORMED"],
        [3, "MISSING_FIELD"],
        [4, "INVALID_RECORD_ID"],
        [5, "INVALID_IMSI"],
        [6, "INVALID_PLMN"],
        [7, "WRONG_HOME_PLMN"],
        [8, "WRONG_VISITED_PLMN"],
        [9, "INVALID_SERVICE"],
        [10, "INVALID_RAT"],
        [11, "INVALID_TIMESTAMP"],
        [12, "OUTSIDE_PERIOD"],
        [13, "INVALID_NUMBER"],
        [14, "NEGATIVE_VOLUME"],
        [15, "ABSURD_VOLUME"],
        [16, "INCONSISTENT_RECORD"],
        [18, "DUPLICATE_RECORD_ID"],
      ]);
      expect(records.map((r) => r.line)).to.deep.equal([17]);
    });
  });

  describe("validation details", () => {
    it("MALFORMED: too many fields, bad quoting, unparseable or non-object JSON, unknown JSON keys", () => {
      expect(rejected(line(`${csv()},extra`)).reason).to.match(/found 14/);
      expect(rejected(line(`"r-1,${csv().slice(4)}`)).reason).to.match(/the quote is not closed/);
      expect(rejected(line(`"r-1"x,${csv().slice(4)}`)).reason).to.match(/text after the closing quote/);
      expect(rejected(line(`r"1,${csv().slice(4)}`)).reason).to.match(/a quote inside a field/);
      expect(rejected(line(jsonl().slice(0, -5), "jsonl")).reason).to.match(/^not valid JSON/);
      expect(rejected(line("[1,2]", "jsonl")).reason).to.match(/not a JSON object/);
      expect(rejected(line("null", "jsonl")).code).to.equal("MALFORMED");
      const unknown = rejected(line(jsonl({ cellId: "x", Imsi: "y" }), "jsonl"));
      expect([unknown.code, unknown.reason]).to.deep.equal(["MALFORMED", 'unknown fields "cellId", "Imsi"']);
    });

    it("MISSING_FIELD: absent, null or empty JSON fields", () => {
      expect(rejected(line(jsonl({ imsi: undefined }), "jsonl")).reason).to.equal("missing imsi");
      expect(rejected(line(jsonl({ service: null, eventCount: "" }), "jsonl")).reason).to.equal("missing service, eventCount");
    });

    it("JSON: text fields must be strings", () => {
      const r = rejected(line(jsonl({ imsi: 262010000000001 }), "jsonl"));
      expect([r.code, r.reason]).to.deep.equal(["INVALID_IMSI", "imsi must be a JSON string, found 262010000000001"]);
      expect(rejected(line(jsonl({ rat: ["nb-iot"] }), "jsonl")).code).to.equal("INVALID_RAT");
      expect(rejected(line(jsonl({ recordId: 17 }), "jsonl")).code).to.equal("INVALID_RECORD_ID");
    });

    it("INVALID_RECORD_ID: spaces, control and non-ASCII characters", () => {
      expect(rejected(line(csv({ recordId: "r 1" }))).reason).to.match(/a space at position 2/);
      expect(rejected(line(csv({ recordId: "r\t1" }))).reason).to.match(/a control character/);
      expect(rejected(line(csv({ recordId: "r-é" }))).reason).to.match(/a non-ASCII character at position 3/);
      expect(accepted(line(csv({ recordId: "x".repeat(32) }))).recordId).to.have.length(32);
    });

    it("INVALID_IMSI: letters and lengths", () => {
      expect(rejected(line(csv({ imsi: "26201000000000X" }))).reason).to.match(/not a digit at position 15/);
      expect(rejected(line(csv({ imsi: "2620100000000011" }))).reason).to.match(/16 digits/);
      expect(rejected(line(csv({ imsi: " 262010000000001" }))).code).to.equal("INVALID_IMSI");
    });

    it("WRONG_HOME_PLMN: an IMSI of another network under the right homePlmn", () => {
      const r = rejected(line(csv({ imsi: "262020000000001" })));
      expect([r.code, r.reason]).to.deep.equal([
        "WRONG_HOME_PLMN",
        "imsi does not start with 26201, the MCC and MNC of the home network 262-01",
      ]);
    });

    it("INVALID_PLMN: MCC 000, bad shapes", () => {
      for (const bad of ["000-01", "262-1", "262 01", "26-201", "abc-de"])
        expect(rejected(line(csv({ homePlmn: bad }))).code).to.equal("INVALID_PLMN", bad);
      expect(accepted(line(csv({ homePlmn: "26201" }))).home).to.equal(HOME);
    });

    it("INVALID_TIMESTAMP: shapes, impossible dates, zones", () => {
      const cases: Record<string, RegExp> = {
        "2026-11-03 10:15:00Z": /not an ISO 8601 UTC time/,
        "2026-11-03T10:15:00": /has no time zone/,
        "2026-11-03T10:15Z": /not an ISO 8601 UTC time/,
        "2026-11-03": /not an ISO 8601 UTC time/,
        "2026-11-31T10:15:00Z": /not a valid date and time/,
        "2026-11-03T24:00:00Z": /not a valid date and time/,
        "2026-11-03T23:59:60Z": /not a valid date and time/,
        "2026-11-03T10:15:00.Z": /not an ISO 8601 UTC time/,
        "2026-11-03T10:15:00-00:00": /has the offset -00:00/,
        "2026-11-03T10:15:00+0200": /has the offset \+0200/,
        "2026-11-03T10:15:00ZZ": /not an ISO 8601 UTC time/,
        "1793700900": /not an ISO 8601 UTC time/,
      };
      for (const [ts, reason] of Object.entries(cases)) {
        const r = rejected(line(csv({ callEventStartTimeStamp: ts })));
        expect(r.code).to.equal("INVALID_TIMESTAMP", ts);
        expect(r.reason).to.match(reason, ts);
      }
      expect(rejected(line(csv({ callEventStartTimeStamp: "2026-02-29T00:00:00Z" }), "csv", { period: 202602 })).reason).to.match(
        /not a valid date/,
      );
    });

    it("OUTSIDE_PERIOD: the period's bounds, in UTC", () => {
      expect(accepted(line(csv({ callEventStartTimeStamp: "2026-11-01T00:00:00Z" }))).startTime).to.equal(utc("2026-11-01T00:00:00Z"));
      expect(accepted(line(csv({ callEventStartTimeStamp: "2026-11-30T23:59:59.999Z" }))).startTime).to.equal(utc("2026-11-30T23:59:59Z"));
      expect(rejected(line(csv({ callEventStartTimeStamp: "2026-12-01T00:00:00Z" }))).code).to.equal("OUTSIDE_PERIOD");
      expect(rejected(line(csv({ callEventStartTimeStamp: "2025-11-15T00:00:00Z" }))).code).to.equal("OUTSIDE_PERIOD");
    });

    it("INVALID_NUMBER and NEGATIVE_VOLUME in every numeric field; 2^53 is too big", () => {
      const numeric = ["totalCallEventDuration", "dataVolumeOutgoing", "dataVolumeIncoming", "eventCount", "latencyMs", "throughputKbps"];
      for (const field of numeric) {
        for (const bad of ["1.5", "1e3", "+5", " 5", "5 ", "0x10", "-", "five"]) {
          const r = rejected(line(csv({ [field]: bad })));
          expect(r.code).to.equal("INVALID_NUMBER", `${field}=${bad}`);
          expect(r.reason).to.include(field);
        }
        const negative = rejected(line(csv({ [field]: "-5" })));
        expect([negative.code, negative.reason]).to.deep.equal(["NEGATIVE_VOLUME", `${field} is negative ("-5")`]);
        expect(rejected(line(jsonl({ [field]: -5 }), "jsonl")).code).to.equal("NEGATIVE_VOLUME");
        expect(rejected(line(jsonl({ [field]: 1.5 }), "jsonl")).code).to.equal("INVALID_NUMBER");
        expect(rejected(line(jsonl({ [field]: true }), "jsonl")).code).to.equal("INVALID_NUMBER");
      }
      expect(rejected(line(csv({ dataVolumeOutgoing: "9007199254740992" }))).reason).to.match(/beyond 2\^53/);
      expect(rejected(line(csv({ dataVolumeOutgoing: "123456789012345678901" }))).reason).to.match(/beyond 2\^53/);
      expect(rejected(line(jsonl({ dataVolumeOutgoing: 2 ** 53 }), "jsonl")).reason).to.match(/beyond 2\^53/);
      // Leading zeros are digits; JSON 1e3 is the number 1000.
      expect(accepted(line(csv({ dataVolumeOutgoing: "0300" }))).bytesUp).to.equal(300);
      expect(accepted(line(jsonl({ dataVolumeOutgoing: 1e3 }), "jsonl")).bytesUp).to.equal(1000);
    });

    it("ABSURD_VOLUME: each limit is allowed, one more is not", () => {
      const limits: [Record<string, string>, Record<string, string>][] = [
        [
          { dataVolumeOutgoing: "1000000000000", dataVolumeIncoming: "0" },
          { dataVolumeOutgoing: "1000000000000", dataVolumeIncoming: "1" },
        ],
        [{ totalCallEventDuration: "2678400" }, { totalCallEventDuration: "2678401" }],
        [
          { service: "signalling", eventCount: "1000000", dataVolumeOutgoing: "0", dataVolumeIncoming: "0" },
          { service: "signalling", eventCount: "1000001", dataVolumeOutgoing: "0", dataVolumeIncoming: "0" },
        ],
        [{ latencyMs: "60000" }, { latencyMs: "60001" }],
        [{ throughputKbps: "10000000" }, { throughputKbps: "10000001" }],
      ];
      for (const [ok, bad] of limits) {
        accepted(line(csv(ok)));
        expect(rejected(line(csv(bad))).code).to.equal("ABSURD_VOLUME", JSON.stringify(bad));
      }
    });

    it("INCONSISTENT_RECORD: the documented rules per service", () => {
      const zero = { dataVolumeOutgoing: "0", dataVolumeIncoming: "0" };
      const bad: [Record<string, string>, RegExp][] = [
        [{ service: "data", totalCallEventDuration: "0", ...zero }, /data record with 0 bytes and a duration of 0/],
        [{ service: "sms", eventCount: "0", ...zero }, /SMS record with an eventCount of 0/],
        [{ service: "sms", eventCount: "1" }, /SMS record with a data volume \(420 bytes\)/],
        [{ service: "voice", totalCallEventDuration: "60", rat: "lte" }, /voice record with a data volume/],
        [{ service: "voice", totalCallEventDuration: "60", rat: "nb-iot", ...zero }, /voice record on NB-IoT/],
        [{ service: "signalling", eventCount: "0", ...zero }, /signalling record with an eventCount of 0/],
        [
          { service: "signalling", eventCount: "2", dataVolumeIncoming: "1", dataVolumeOutgoing: "0" },
          /signalling record with a data volume/,
        ],
      ];
      for (const [changes, reason] of bad) {
        const r = rejected(line(csv(changes)));
        expect(r.code).to.equal("INCONSISTENT_RECORD", JSON.stringify(changes));
        expect(r.reason).to.match(reason);
      }
      // An idle data session (time, no bytes) is fine; so is a data record with bytes and no duration.
      accepted(line(csv({ dataVolumeOutgoing: "0", dataVolumeIncoming: "0", totalCallEventDuration: "30" })));
      accepted(line(csv({ totalCallEventDuration: "0" })));
    });

    it("DUPLICATE_RECORD_ID: within a file, and against ids of earlier files (one table)", () => {
      const seenIds = new RecordIdSet({ withValues: true });
      seenIds.add("r-old");
      const parser = new UsageLineParser({ ...OPTIONS, seenIds });
      const old = rejected(parser.parse(csv({ recordId: "r-old" }), 2));
      expect([old.code, old.reason]).to.deep.equal(["DUPLICATE_RECORD_ID", "recordId was accepted from an earlier file of this period"]);
      accepted(parser.parse(csv({ recordId: "r-new" }), 3));
      expect(rejected(parser.parse(csv({ recordId: "r-new" }), 4)).reason).to.equal("recordId repeats line 3");
      // The parser adds the ids it yields to the period's table; a record the caller does not commit is
      // kept out of what is saved, and still catches repeats within the file.
      expect([seenIds.size, seenIds.has("r-new")]).to.deep.equal([2, true]);
      seenIds.keepOut("r-new");
      expect(seenIds.savedSize).to.equal(1);
      expect(rejected(parser.parse(csv({ recordId: "r-new" }), 5)).reason).to.equal("recordId repeats line 3");
    });

    it("refuses a table of ids without values (it could not name the line a repeat repeats)", () => {
      expect(() => new UsageLineParser({ ...OPTIONS, seenIds: new RecordIdSet() })).to.throw(/withValues/);
    });

    it("remembers only accepted ids: a corrected line may reuse the id of a rejected one", () => {
      const parser = new UsageLineParser(OPTIONS);
      expect(rejected(parser.parse(csv({ imsi: "1" }), 2)).code).to.equal("INVALID_IMSI");
      expect(accepted(parser.parse(csv(), 3)).line).to.equal(3);
    });

    it("refuses bad run settings", () => {
      expect(() => new UsageLineParser({ ...OPTIONS, period: 202613 })).to.throw(InputError, /period 202613 is not a month/);
      expect(() => new UsageLineParser({ ...OPTIONS, home: "0xffffff" })).to.throw(InputError, /home 0xffffff is not a valid PLMN id/);
      expect(() => new UsageLineParser({ ...OPTIONS, columns: ["recordId", "imsi"] })).to.throw(InputError, /missing columns homePlmn/);
      // The same periods the contracts take (PeriodLib), whichever command reads them.
      expect(() => checkPeriod(200001)).not.to.throw();
      expect(() => checkPeriod(239912)).not.to.throw();
      for (const bad of [199912, 240001, 202600]) expect(() => checkPeriod(bad)).to.throw(InputError, /years 2000 to 2399/);
      expect(parsePeriod("2026-11")).to.equal(202611);
      for (const bad of ["2026-13", "2026-00", "26-11", "2026/11", "nov", "202611", "1999-12"])
        expect(() => parsePeriod(bad)).to.throw(InputError);
    });
  });

  describe("parseUsageFile", () => {
    it("reads the CSV fixture: every service and RAT, quotes, lenient case and PLMN forms", async () => {
      const { records, rejects } = await parse(path.join(FIXTURES, "valid.csv"));
      expect(rejects).to.deep.equal([]);
      expect(records.map((r) => [r.line, r.recordId, r.service, r.rat])).to.deep.equal([
        [2, "br-0001", 0, 0],
        [3, "br-0002", 3, 0],
        [4, "br-0003", 1, 1],
        [5, "br-0004", 2, 2],
        [6, "br-0005", 0, 3],
        [7, "br,0006", 0, 1],
        [8, "br-0007", 0, 4],
        [9, "br-0008", 0, 5],
      ]);
      expect(records[4]).to.include({ bytesUp: 150_000_000, bytesDown: 900_000_000, latencyMs: 12, throughputKbps: 450_000 });
    });

    it("reads the JSON-lines fixture into the same records (apart from line numbers)", async () => {
      const fromCsv = (await parse(path.join(FIXTURES, "valid.csv"))).records;
      const { records, rejects } = await parse(path.join(FIXTURES, "valid.jsonl"));
      expect(rejects).to.deep.equal([]);
      expect(records.map((r) => r.line)).to.deep.equal([1, 2, 3, 5, 6, 7, 8, 9]);
      expect(records.map((r) => ({ ...r, line: 0 }))).to.deep.equal(fromCsv.map((r) => ({ ...r, line: 0 })));
      // .ndjson or an explicit format work too.
      const ndjson = file(fs.readFileSync(path.join(FIXTURES, "valid.jsonl")), ".ndjson");
      expect((await parse(ndjson)).records).to.have.length(8);
      const txt = file(fs.readFileSync(path.join(FIXTURES, "valid.jsonl")), ".txt");
      expect((await parse(txt, { format: "jsonl" })).records).to.have.length(8);
    });

    it("accepts the columns in any order", async () => {
      const order = [...USAGE_FIELDS].reverse();
      const name = file([order.join(","), order.map((f) => GOOD[f]).join(",")].join("\n"));
      const { records } = await parse(name);
      expect({ ...records[0], line: 1 }).to.deep.equal(line(csv()));
    });

    it("skips a BOM, reads CRLF, blank lines and a last line without a line break, keeping physical line numbers", async () => {
      const text = `\uFEFF${HEADER}\r\n${csv({ recordId: "a" })}\r\n\r\n   \r\n${csv({ recordId: "b" })}\r\n\n${csv({ recordId: "c" })}`;
      const { records, rejects } = await parse(file(Buffer.from(text, "utf8")));
      expect(rejects).to.deep.equal([]);
      expect(records.map((r) => [r.line, r.recordId])).to.deep.equal([
        [2, "a"],
        [5, "b"],
        [7, "c"],
      ]);
      expect(records[0].throughputKbps).to.equal(45); // no \r left on the last field
    });

    it("rejects a cut-off last line, saying it may be cut off", async () => {
      const { records, rejects } = await parse(file(`${HEADER}\n${csv()}\n${csv({ recordId: "r-2" }).slice(0, 60)}`));
      expect(records).to.have.length(1);
      expect(rejects).to.have.length(1);
      expect(rejects[0]).to.include({ line: 3, code: "MALFORMED" });
      expect(rejects[0].reason).to.match(/found 7 .*the last line of the file has no line break: was it cut off\?/);
    });

    it("a header alone is zero records, not an error", async () => {
      const { records, rejects, chunks } = await parse(file(`${HEADER}\n`));
      expect([records.length, rejects.length]).to.deep.equal([0, 0]);
      expect(chunks.at(-1)!.bytesRead).to.equal(HEADER.length + 1);
    });

    it("handles RFC 4180 quotes in CSV", async () => {
      const quoted = `"q,1",${csv().slice(4)}\n"q""2",${csv().slice(4)}\n"q-3","262010000000001","262-01","724-05","data","2026-11-03T10:15:00Z","12","300","120","0","nb-iot","",""`;
      const { records, rejects } = await parse(file(`"recordId",${HEADER.slice(9)}\n${quoted}\n`));
      expect(rejects).to.deep.equal([]);
      expect(records.map((r) => r.recordId)).to.deep.equal(["q,1", 'q"2', "q-3"]);
      expect(records[2]).to.include({ latencyMs: 0, bytesUp: 300 });
    });

    it("rejects a line with invalid UTF-8 or a NUL byte and goes on", async () => {
      const good = Buffer.from(`${csv({ recordId: "ok" })}\n`);
      const pad = Buffer.from(`${HEADER}\n${Array.from({ length: 60 }, (_, i) => csv({ recordId: `pad-${i}` })).join("\n")}\n`);
      expect(pad.length).to.be.greaterThan(4096);
      const body = Buffer.concat([
        pad,
        Buffer.from("bad-utf8,"),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(`${csv().slice(5)}\n`),
        Buffer.from("nul\0line\n"),
        Buffer.from(`${csv({ recordId: "r-é" })}\n`),
        good,
      ]);
      const { records, rejects } = await parse(file(body));
      expect(rejects.map((r) => [r.line, r.code, r.reason])).to.deep.equal([
        [62, "MALFORMED", "the line is not valid UTF-8 text"],
        [63, "MALFORMED", "the line contains a NUL byte (binary data)"],
        [64, "INVALID_RECORD_ID", "recordId has a non-ASCII character at position 3 (printable ASCII only)"],
      ]);
      expect(rejects[1].raw).to.equal("nul\\0line");
      expect(records.at(-1)).to.include({ line: 65, recordId: "ok" });
      expect(records).to.have.length(61);
    });

    it("rejects a line over 1 MiB and goes on with the next", async () => {
      const long = "x".repeat(MAX_LINE_BYTES * 2 + 100);
      const { records, rejects } = await parse(file(`${HEADER}\n${csv({ recordId: "a" })}\n${long}\n${csv({ recordId: "b" })}\n`));
      expect(rejects.map((r) => [r.line, r.code])).to.deep.equal([[3, "MALFORMED"]]);
      expect(rejects[0].raw).to.equal("x".repeat(200));
      expect(records.map((r) => [r.line, r.recordId])).to.deep.equal([
        [2, "a"],
        [4, "b"],
      ]);
    });

    it("reads a file of several blocks: lines across block edges, progress in bytes, same result as line by line", async () => {
      const lines = [HEADER];
      for (let i = 0; i < 30_000; i++)
        lines.push(i % 997 === 5 ? csv({ recordId: `r-${i}`, rat: "bad" }) : csv({ recordId: `r-${i}`, dataVolumeOutgoing: String(i) }));
      const text = `${lines.join("\n")}\n`;
      const name = file(text);
      const { records, rejects, chunks } = await parse(name);
      expect(chunks.length).to.be.greaterThan(2);
      expect(records.length + rejects.length).to.equal(30_000);
      const bytes = chunks.map((c) => c.bytesRead);
      expect(bytes).to.deep.equal([...bytes].sort((a, b) => a - b));
      expect(bytes.at(-1)).to.equal(fs.statSync(name).size);
      const parser = new UsageLineParser(OPTIONS);
      const expected = lines.slice(1).map((l, i) => parser.parse(l, i + 2));
      // (JSON text: chai's deep equal is slow on 30,000 objects.)
      expect(JSON.stringify(records)).to.equal(JSON.stringify(expected.filter((o) => !isReject(o))));
      expect(JSON.stringify(rejects)).to.equal(JSON.stringify(expected.filter(isReject)));
      expect(rejects).to.have.length(31);
    });

    it("JSON lines: duplicates within the file and against a passed RecordIdSet", async () => {
      const seenIds = new RecordIdSet({ withValues: true });
      seenIds.add("earlier");
      const text = [jsonl({ recordId: "a" }), jsonl({ recordId: "earlier" }), jsonl({ recordId: "a" }), jsonl({ recordId: "b" })].join(
        "\n",
      );
      const { records, rejects } = await parse(file(text, ".jsonl"), { seenIds });
      expect(records.map((r) => r.recordId)).to.deep.equal(["a", "b"]);
      expect(rejects.map((r) => [r.line, r.code, r.reason])).to.deep.equal([
        [2, "DUPLICATE_RECORD_ID", "recordId was accepted from an earlier file of this period"],
        [3, "DUPLICATE_RECORD_ID", "recordId repeats line 1"],
      ]);
    });

    describe("whole-file failures (nothing yielded)", () => {
      it("missing file, directory", async () => {
        const missing = path.join(dir, "nope.csv");
        expect((await failure(missing)).message).to.match(/nope\.csv: file not found/);
        const folder = path.join(dir, "folder.csv");
        fs.mkdirSync(folder);
        expect((await failure(folder)).message).to.match(/directory/);
      });

      it("empty file, or only a BOM and blank lines", async () => {
        expect((await failure(file(""))).message).to.match(/the file is empty/);
        expect((await failure(file("\uFEFF\n\r\n  \n"))).message).to.match(/the file is empty \(blank lines only\)/);
        expect((await failure(file("\n\n", ".jsonl"))).message).to.match(/the file is empty/);
      });

      it("binary, gzip, UTF-16", async () => {
        const binary = await failure(file(Buffer.concat([Buffer.from(HEADER), Buffer.from([0, 1, 2, 3])])));
        expect(binary.message).to.include(`the file is binary (a NUL byte at offset ${HEADER.length})`);
        expect(binary.location?.line).to.equal(1);
        expect((await failure(file(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])))).message).to.match(/gzip-compressed/);
        expect((await failure(file(Buffer.from(`\uFEFF${HEADER}\n`, "utf16le")))).message).to.match(/UTF-16/);
      });

      it("a header that is not UTF-8", async () => {
        const err = await failure(file(Buffer.concat([Buffer.from([0x72, 0xe9, 0x63, 0x2c]), Buffer.from(`${HEADER}\n`)])));
        expect(err.message).to.match(/the header is not valid UTF-8 text/);
      });

      it("a header with another delimiter", async () => {
        expect((await failure(file(`${USAGE_FIELDS.join(";")}\n`))).message).to.match(
          /:1: the header is separated by semicolons, not commas/,
        );
        expect((await failure(file(`${USAGE_FIELDS.join("\t")}\n`))).message).to.match(/separated by tabs/);
      });

      it("unknown columns, all listed", async () => {
        const err = await failure(file(`${HEADER},cellId,Operator\n${csv()},1,2\n`));
        expect(err.shortMessage).to.match(/unknown columns "cellId", "Operator"$/);
        const near = await failure(file(`${HEADER.replace("imsi", "IMSI")}\n`));
        expect(near.shortMessage).to.match(/unknown column "IMSI" \(did you mean imsi\?\)/);
      });

      it("missing or repeated columns", async () => {
        const err = await failure(file(`${USAGE_FIELDS.filter((f) => f !== "rat" && f !== "service").join(",")}\n`));
        expect(err.shortMessage).to.match(/missing columns service, rat$/);
        expect((await failure(file(`${HEADER},imsi\n`))).shortMessage).to.match(/column "imsi" appears twice/);
      });

      it("no header: the first line is a record", async () => {
        const err = await failure(file(`${csv()}\n${csv()}\n`));
        expect(err.message).to.match(/unknown columns/);
        expect(err.message).to.match(/the first line must be the header/);
      });

      it("the wrong format for the extension, or no format at all", async () => {
        expect((await failure(file(`${jsonl()}\n`, ".csv"))).message).to.match(/the first line is a JSON object, not a CSV header/);
        expect((await failure(file(`${HEADER}\n${csv()}\n`, ".jsonl"))).message).to.match(/looks like a CSV header/);
        expect((await failure(file(`${HEADER}\n`, ".dat"))).message).to.match(/cannot tell the format/);
      });
    });

    it("closes the file when the caller stops early", async function () {
      if (!fs.existsSync("/proc/self/fd")) this.skip();
      const name = file(`${`${HEADER}\n${csv()}\n`.repeat(1)}${csv({ recordId: "r-2" })}\n`);
      const openFiles = () =>
        fs.readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`) === name;
          } catch {
            return false;
          }
        }).length;
      for await (const chunk of parseUsageFile(name, OPTIONS)) {
        expect(chunk.records).to.have.length(2);
        expect(openFiles()).to.equal(1);
        break;
      }
      expect(openFiles()).to.equal(0);
    });
  });
});

describe("lib/usage/recordIdSet", () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-ids-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("hashes with 64-bit FNV-1a (published test vectors)", () => {
    expect(recordIdHash("")).to.equal(0xcbf29ce484222325n);
    expect(recordIdHash("a")).to.equal(0xaf63dc4c8601ec8cn);
    expect(recordIdHash("foobar")).to.equal(0x85944171f73967e8n);
  });

  it("adds and finds ids; claim returns -1 for a new id, else the value it came with (0: none)", () => {
    const set = new RecordIdSet({ withValues: true });
    expect(set.add("a")).to.equal(true);
    expect(set.add("a")).to.equal(false);
    expect(set.claim("b", 7)).to.equal(-1);
    expect(set.claim("b", 9)).to.equal(7);
    expect(set.claim("a", 9)).to.equal(0);
    expect([set.has("a"), set.has("b"), set.has("c"), set.size]).to.deep.equal([true, true, false, 2]);
    expect(() => set.claim("c", 0)).to.throw(RangeError);
    expect(() => set.claim("c", 2 ** 31)).to.throw(RangeError);
    expect(() => new RecordIdSet().claim("c", 1)).to.throw(/withValues/);
  });

  it("keepOut: the id stays for repeats, save leaves it out; values and marks survive growing", async () => {
    const set = new RecordIdSet({ withValues: true });
    for (let i = 1; i <= 1000; i++) set.claim(`id-${i}`, i);
    expect([set.keepOut("id-7"), set.keepOut("id-7"), set.keepOut("nope")]).to.deep.equal([true, true, false]);
    for (let i = 1001; i <= 5000; i++) set.claim(`id-${i}`, i); // grows the table several times
    expect([set.claim("id-7", 1), set.claim("id-4321", 1), set.size, set.savedSize]).to.deep.equal([7, 4321, 5000, 4999]);
    const name = path.join(dir, "kept-out.ids");
    await set.save(name);
    const loaded = await RecordIdSet.load(name, { withValues: true, room: 10 });
    expect([loaded.size, loaded.has("id-7"), loaded.has("id-8"), loaded.claim("id-8", 3), loaded.hasValues]).to.deep.equal([
      4999,
      false,
      true,
      0,
      true,
    ]);
    const merged = new RecordIdSet();
    merged.addAll(set);
    expect([merged.size, merged.has("id-7")]).to.deep.equal([4999, false]);
    fs.rmSync(name);
  });

  it("has no false negatives over 1,000,000 ids (and no false positive among 1,000,000 others)", () => {
    const set = new RecordIdSet();
    const id = (i: number) => `72405-202611-${String(i).padStart(9, "0")}`;
    for (let i = 0; i < 1_000_000; i++) set.add(id(i));
    expect(set.size).to.equal(1_000_000);
    let missing = 0;
    let extra = 0;
    for (let i = 0; i < 1_000_000; i++) if (!set.has(id(i))) missing++;
    for (let i = 1_000_000; i < 2_000_000; i++) if (set.has(id(i))) extra++;
    expect([missing, extra]).to.deep.equal([0, 0]);
    // 8 bytes per slot, at most 3/4 full.
    expect(set.capacity).to.equal(2 ** 21);
  });

  it("reserve makes room once: the ids it was sized for never grow the table, and the ids in it stay", () => {
    const set = new RecordIdSet();
    for (let i = 0; i < 100; i++) set.add(`old-${i}`);
    set.reserve(100 + 200_000);
    const capacity = set.capacity;
    expect(capacity).to.equal(2 ** 19); // the smallest power of two at most 3/4 full with 200,100 ids
    for (let i = 0; i < 200_000; i++) set.add(`new-${i}`);
    expect([set.capacity, set.size, set.has("old-99"), set.has("new-199999")]).to.deep.equal([capacity, 200_100, true, true]);
    set.reserve(10); // never shrinks
    expect(set.capacity).to.equal(capacity);
  });

  it("saves and loads a set atomically (round trip of 1,000,000 ids)", async () => {
    const set = new RecordIdSet();
    for (let i = 0; i < 1_000_000; i++) set.add(`id-${i}`);
    const name = path.join(dir, "period.ids");
    fs.writeFileSync(name, "old content");
    await set.save(name);
    expect(fs.readdirSync(dir)).to.deep.equal(["period.ids"]); // no temp file left
    expect(fs.statSync(name).size).to.equal(24 + 8 * 1_000_000);
    const loaded = await RecordIdSet.load(name);
    expect(loaded.size).to.equal(1_000_000);
    let missing = 0;
    for (let i = 0; i < 1_000_000; i++) if (!loaded.has(`id-${i}`)) missing++;
    expect(missing).to.equal(0);
    expect(loaded.has("id-1000000")).to.equal(false);
    // Merging: addAll.
    const merged = new RecordIdSet();
    merged.add("other");
    merged.addAll(loaded);
    expect(merged.size).to.equal(1_000_001);
  });

  it("refuses a damaged or foreign file, and loads a missing one as empty only when asked", async () => {
    const set = new RecordIdSet();
    set.add("x");
    set.add("y");
    const name = path.join(dir, "small.ids");
    await set.save(name);
    const bytes = fs.readFileSync(name);
    fs.writeFileSync(name, bytes.subarray(0, bytes.length - 3));
    await expectRejected(RecordIdSet.load(name), /truncated/);
    const flipped = Buffer.from(bytes);
    flipped[30] ^= 1;
    fs.writeFileSync(name, flipped);
    await expectRejected(RecordIdSet.load(name), /checksum mismatch/);
    fs.writeFileSync(name, "hello, world, this is not a set");
    await expectRejected(RecordIdSet.load(name), /does not start with RLIDSET1/);
    const missing = path.join(dir, "missing.ids");
    await expectRejected(RecordIdSet.load(missing), /record id set not found/);
    expect((await RecordIdSet.load(missing, { missingOk: true })).size).to.equal(0);
  });
});

describe("lib/usage/rejects", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-rejects-"));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes line,code,reason,raw with CSV quoting and raw cut to 200 characters, on close only", async () => {
    const input = path.join(dir, "usage.csv");
    const writer = await RejectsWriter.open(input);
    await writer.write([
      { line: 3, code: "INVALID_IMSI", reason: "imsi has 14 digits, expected 15", raw: 'r-1,2620100,"x"' },
      { line: 9, code: "MALFORMED", reason: "not valid JSON", raw: "y".repeat(250) },
      { line: 12, code: "INVALID_IMSI", reason: "plain", raw: "a\rb" },
    ]);
    expect(fs.existsSync(`${input}.rejects.csv`)).to.equal(false);
    const summary = await writer.close();
    expect(summary).to.deep.equal({ path: `${input}.rejects.csv`, total: 3, counts: { MALFORMED: 1, INVALID_IMSI: 2 } });
    expect(fs.readFileSync(`${input}.rejects.csv`, "utf8")).to.equal(
      `line,code,reason,raw\n3,INVALID_IMSI,"imsi has 14 digits, expected 15","r-1,2620100,""x"""\n9,MALFORMED,not valid JSON,${"y".repeat(200)}\n12,INVALID_IMSI,plain,"a\rb"\n`,
    );
    expect(fs.readdirSync(dir).sort()).to.deep.equal(["usage.csv.rejects.csv"]);
    expect(csvField("a,b")).to.equal('"a,b"');
  });

  it("writes a header-only file when there are no rejects, replacing an older one", async () => {
    const input = path.join(dir, "usage.csv");
    fs.writeFileSync(`${input}.rejects.csv`, "stale");
    const writer = await RejectsWriter.open(input);
    expect((await writer.close()).total).to.equal(0);
    expect(fs.readFileSync(`${input}.rejects.csv`, "utf8")).to.equal("line,code,reason,raw\n");
  });

  it("abort removes the temp file and keeps the earlier rejects file", async () => {
    const input = path.join(dir, "usage.csv");
    fs.writeFileSync(`${input}.rejects.csv`, "earlier run");
    const writer = await RejectsWriter.open(input);
    const many: Reject[] = Array.from({ length: 5000 }, (_, i) => ({
      line: i + 2,
      code: "MALFORMED",
      reason: "r".repeat(60),
      raw: "x".repeat(100),
    }));
    await writer.write(many); // over the flush threshold: part of it is on disk
    await writer.abort();
    await writer.abort();
    expect(fs.readdirSync(dir)).to.deep.equal(["usage.csv.rejects.csv"]);
    expect(fs.readFileSync(`${input}.rejects.csv`, "utf8")).to.equal("earlier run");
    await expectRejected(writer.write([]), /aborted/);
  });

  it("writes what the parser rejects from a file", async () => {
    const input = path.join(FIXTURES, "rejects.csv");
    const target = path.join(dir, "out.rejects.csv");
    const writer = await RejectsWriter.open(input, { path: target });
    for await (const chunk of parseUsageFile(input, OPTIONS)) await writer.write(chunk.rejects);
    const summary = await writer.close();
    expect(summary.total).to.equal(16);
    expect(Object.keys(summary.counts)).to.have.length(16);
    const rows = fs.readFileSync(target, "utf8").trimEnd().split("\n");
    expect(rows[0]).to.equal("line,code,reason,raw");
    expect(rows[1]).to.match(/^2,MALFORMED,"expected 13 fields.*","r-malformed,262010000000001,/);
  });
});

async function expectRejected(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(message);
    return;
  }
  throw new Error("expected a rejection");
}
