import { InputError } from "../../core/errors";
import type { ServiceName } from "../../core/enums";
import type { Hex } from "../../util/hex";
import { checkPlmnHex, formatPlmn, plmnMcc, plmnMnc } from "../../core/plmn";
import { checkPeriod } from "../../core/period";
import { formatFromExtension, type UsageFormat } from "../parse";
import type { Rat, RejectCode } from "../types";
import type { TapWriteSummary } from "../../tap/fromUsage";

/** The files the generator writes: a usage file (CSV or JSON lines), or a TAP 3.12 file. */
export type GeneratedFormat = UsageFormat | "tap";

/** For `format: "tap"`: the TAP file's parties and numbering, and the CSV of the same records. */
export interface TapGenerateOptions {
  /** TADIG codes of the visited (sender) and home (recipient) networks; derived from their MCC-MNC by default. */
  sender?: string;
  recipient?: string;
  /** FileSequenceNumber, 1 to 99999 (default 1). */
  sequence?: number;
  /** The visited network's UTC offset (+hhmm); from its MCC when known, else +0000. */
  utcOffset?: string;
  /** The radio access technology of every record (TAP does not carry one; default lte, as the TAP reader's). */
  rat?: Rat;
  /** FileTypeIndicator "T" (test data). */
  testData?: boolean;
  /** Also write the records the TAP file holds as a usage CSV (their TAP record ids): what reading the file back gives. */
  csvOut?: string;
}

export type GeneratedPolicy = "meter" | "tracker" | "drone";
export type OutOfPolicyKind = "voice" | "sms" | "over-cap";
export const MALFORMED_KINDS = ["bad-imsi", "bad-timestamp", "negative-volume", "duplicate-id", "wrong-home", "truncated"] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** The reject code the parser gives each kind of malformed line. */
export const MALFORMED_REJECT_CODES: Record<MalformedKind, RejectCode> = {
  "bad-imsi": "INVALID_IMSI",
  "bad-timestamp": "INVALID_TIMESTAMP",
  "negative-volume": "NEGATIVE_VOLUME",
  "duplicate-id": "DUPLICATE_RECORD_ID",
  "wrong-home": "WRONG_HOME_PLMN",
  truncated: "MALFORMED",
};

export interface GenerateOptions {
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** Number of devices; derived from `records` when absent. Give one of the two. */
  devices?: number;
  /** Approximate number of valid records wanted (the fleet size is derived from it). */
  records?: number;
  /** PRNG seed (an integer); 1 by default. */
  seed?: number;
  /** From the extension of `usageOut` by default (csv when it says nothing; .tap is TAP). */
  format?: GeneratedFormat;
  /** With format "tap". */
  tap?: TapGenerateOptions;
  usageOut: string;
  devicesOut: string;
  /** Digits every IMSI starts with; the home MCC+MNC by default (must start with them). */
  imsiPrefix?: string;
  /** Share of devices (meters) that break their policy; 0.005 by default (at least one when > 0). */
  fraudRate?: number;
  /** Chance of a malformed line after each valid one; 0.001 by default (0 for TAP, which takes none). */
  malformedRate?: number;
  /** Devices present every day of the month; 2% of the fleet by default (at least one). */
  permanentRoamers?: number;
  /** Member id (MCC-MNC) written in the devices file's maker column; none by default. */
  maker?: string;
  /** Called after each block written, with the usage lines (after the header) written so far. */
  onProgress?: (lines: number) => void;
}

export interface OutOfPolicyDevice {
  imsi: string;
  kind: OutOfPolicyKind;
  /** Out-of-policy records (voice calls, SMS, or streaming data records) written for it. */
  records: number;
}

export interface GenerateSummary {
  format: GeneratedFormat;
  seed: number;
  usageFile: string;
  devicesFile: string;
  /** Days in the period. */
  days: number;
  devices: number;
  devicesByPolicy: Record<GeneratedPolicy, number>;
  /** Valid records (all of them parse; the out-of-policy ones included). */
  records: number;
  recordsByService: Record<ServiceName, number>;
  /** Usage lines after the header: records + malformed lines. */
  lines: number;
  /** Devices that break their policy (all meters). */
  outOfPolicy: OutOfPolicyDevice[];
  /** IMSIs of the devices present every day of the month (and only they are). */
  permanentRoamers: string[];
  /** Line numbers of the malformed lines, by kind (MALFORMED_REJECT_CODES gives the parser's code). */
  malformed: Record<MalformedKind, number[]>;
  /** With format "tap": what the TAP file holds; signalling records (TAP has none) are left out, and counted. */
  tap?: TapWriteSummary & { signallingLeftOut: number; csvFile?: string };
}

/** Share of the fleet of each kind; drones are the rest. */
export const SHARE = { meter: 0.7, tracker: 0.25 };

/** The options checked, with their defaults, and what follows from them. */
export interface Settings {
  seed: number;
  format: GeneratedFormat;
  fraudRate: number;
  malformedRate: number;
  /** MCC-MNC of the two networks. */
  homeText: string;
  visitedText: string;
  imsiPrefix: string;
  /** Digits of an IMSI after the prefix. */
  msinDigits: number;
  period: number;
  year: number;
  month: number;
  /** Days in the period. */
  days: number;
  deviceCount: number;
  permanentCount: number;
  maker?: string;
}

/** Checks the options and fills in the defaults; throws InputError for an option it cannot honour. */
export function resolveSettings(options: GenerateOptions): Settings {
  checkPlmnHex(options.home, "home");
  checkPlmnHex(options.visited, "visited");
  checkPeriod(options.period);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InputError(`seed must be a whole number, found ${seed}`);
  const format = options.format ?? (/\.tap$/i.test(options.usageOut) ? "tap" : (formatFromExtension(options.usageOut) ?? "csv"));
  const fraudRate = options.fraudRate ?? 0.005;
  const malformedRate = options.malformedRate ?? (format === "tap" ? 0 : 0.001);
  if (format === "tap" && malformedRate > 0) {
    throw new InputError(`a malformed-line rate of ${malformedRate} with a TAP file`, {
      location: { param: "malformedRate" },
      hint: "the TAP generator writes well-formed call events only; leave the rate out (or 0).",
    });
  }
  checkRate("fraudRate", fraudRate);
  checkRate("malformedRate", malformedRate);
  const homeText = formatPlmn(options.home);
  const imsiPrefix = checkImsiPrefix(homeText, options.imsiPrefix);
  const year = Math.floor(options.period / 100);
  const month = options.period % 100;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const deviceCount = deviceCountOf(options, days);
  const msinDigits = 15 - imsiPrefix.length;
  if (deviceCount >= 10 ** msinDigits) {
    throw new InputError(`${deviceCount} devices do not fit under the IMSI prefix ${imsiPrefix}`, { hint: "use a shorter prefix." });
  }
  const permanentCount = options.permanentRoamers ?? Math.max(1, Math.round(deviceCount * 0.02));
  checkCount("permanentRoamers", permanentCount, 0);
  return {
    seed,
    format,
    fraudRate,
    malformedRate,
    homeText,
    visitedText: formatPlmn(options.visited),
    imsiPrefix,
    msinDigits,
    period: options.period,
    year,
    month,
    days,
    deviceCount,
    permanentCount,
    maker: options.maker,
  };
}

function checkImsiPrefix(homeText: string, given: string | undefined): string {
  const homeDigits = plmnMcc(homeText) + plmnMnc(homeText);
  const imsiPrefix = given ?? homeDigits;
  if (!/^\d+$/.test(imsiPrefix) || !imsiPrefix.startsWith(homeDigits) || imsiPrefix.length > 13) {
    throw new InputError(`IMSI prefix "${imsiPrefix}" does not fit`, {
      hint: `use digits starting with ${homeDigits} (the home MCC and MNC), at most 13 of them.`,
    });
  }
  return imsiPrefix;
}

function deviceCountOf(options: GenerateOptions, days: number): number {
  if (options.devices !== undefined && options.records !== undefined) {
    throw new InputError("give the number of devices or of records, not both", { hint: "the other follows from the usage model." });
  }
  if (options.devices !== undefined) {
    checkCount("devices", options.devices, 1);
    return options.devices;
  }
  if (options.records !== undefined) {
    checkCount("records", options.records, 1);
    return Math.max(1, Math.round(options.records / expectedRecordsPerDevice(days)));
  }
  throw new InputError("give the number of devices or of records to generate");
}

/** Average valid records per device and month under the model of usageFile.ts (to size the fleet). */
function expectedRecordsPerDevice(days: number): number {
  const meterDays = ((5 + days - 1) / 2) * 0.9;
  const meter = meterDays * (2.5 + 0.6);
  const trackerDays = (2 + Math.min(20, days - 1)) / 2;
  const tracker = trackerDays * (5 + 0.3 + 1);
  const drone = 4.3 * (3.5 + 0.45 + 0.1 + 1);
  return SHARE.meter * meter + SHARE.tracker * tracker + (1 - SHARE.meter - SHARE.tracker) * drone;
}

function checkRate(name: string, value: number): void {
  if (!(value >= 0 && value <= 0.5)) {
    throw new InputError(`${name} must be a number from 0 to 0.5, found ${value}`, { hint: `e.g. 0.005 for 0.5%.` });
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${name} must be a whole number of at least ${min}, found ${value}`);
  }
}
