import path from "node:path";
import { parseArgs } from "node:util";
import { type Hex, parsePeriod, parsePlmn } from "roamledger";

export const HELP = `roamledger-backend: follows the RoamLedger chain for one carrier and renders its invoices.

Usage:
  node dist/main.js [--period YYYY-MM --partner MCC-MNC] [--once] [options]

Connection (a flag wins over its environment variable):
  --rpc-url URL        ROAMLEDGER_RPC_URL       JSON-RPC endpoint of your consortium node (required)
                       ROAMLEDGER_PRIVATE_KEY   operator key of your carrier, 0x and 64 hex digits (required;
                                                environment only, so that it never shows in the process list)
  --deployment FILE    ROAMLEDGER_DEPLOYMENT    the deployment's deployed_addresses.json (default:
                                                ./ignition/deployments/chain-<chain id>/deployed_addresses.json)

Invoices of a period, both directions, once each is closed on-chain:
  --period YYYY-MM                              billing period (give --partner with it)
  --partner MCC-MNC                             the other carrier, e.g. 724-05
  --out DIR            ROAMLEDGER_OUT           folder for the files (default ./invoices)
  --formats LIST                                comma-separated, of json, csv, pdf (default json,csv,pdf)
  --keystore DIR       ROAMLEDGER_HOME          your key store: the invoices are rated from its terms and the sealed payloads
  --store DIR          ROAMLEDGER_STORE         payload store (default <keystore>/store)

Watching:
  --from-block N                                first block to read (default: the next one; 0 with --once)
  --poll SECONDS                                seconds between polls (default 2)
  --once                                        read up to the current block, render, print a summary, exit
  --help                                        this text

stdout carries one JSON object per line: {"type":"alert"}, {"type":"invoice"}, {"type":"summary"}.
Errors go to stderr. Exit codes: 0 done, 1 failed, 2 bad options.`;

export const FORMATS = ["json", "csv", "pdf"] as const;
export type Format = (typeof FORMATS)[number];

export interface Options {
  rpcUrl: string;
  privateKey: string;
  deployment?: string;
  invoices?: { period: number; partner: Hex };
  out: string;
  formats: Format[];
  keystore?: string;
  store?: string;
  fromBlock?: number;
  pollMs: number;
  once: boolean;
}

/** A bad flag or environment variable: the message names it and says what to do. */
export class UsageError extends Error {
  override name = "UsageError";
}

const FLAGS = {
  "rpc-url": { type: "string" },
  deployment: { type: "string" },
  period: { type: "string" },
  partner: { type: "string" },
  out: { type: "string" },
  formats: { type: "string" },
  keystore: { type: "string" },
  store: { type: "string" },
  "from-block": { type: "string" },
  poll: { type: "string" },
  once: { type: "boolean" },
  help: { type: "boolean" },
} as const;

function required(value: string | undefined, flag: string, variable: string): string {
  if (value?.trim()) return value.trim();
  throw new UsageError(`${flag} (or ${variable}) is required`);
}

function rpcUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `--rpc-url (ROAMLEDGER_RPC_URL) ${JSON.stringify(value)} is not a URL: give the node's endpoint, e.g. http://127.0.0.1:8545`,
    );
  }
  if (!["http:", "https:"].includes(url.protocol)) {
    throw new UsageError(`--rpc-url (ROAMLEDGER_RPC_URL) must be an http(s) URL, found ${url.protocol}`);
  }
  return value;
}

function privateKey(env: NodeJS.ProcessEnv): string {
  const key = env.ROAMLEDGER_PRIVATE_KEY?.trim();
  if (!key) throw new UsageError("ROAMLEDGER_PRIVATE_KEY is not set: export your operator account's key (0x and 64 hex digits)");
  const hex = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new UsageError("ROAMLEDGER_PRIVATE_KEY is not a private key: set it to 0x and 64 hex digits, your operator account's key");
  }
  return hex;
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a number`);
  return Number(value);
}

function formats(value: string | undefined): Format[] {
  if (value === undefined) return [...FORMATS];
  const list = value.split(",").map((f) => f.trim().toLowerCase());
  const wrong = list.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (wrong.length > 0 || list.length === 0) {
    throw new UsageError(`--formats ${JSON.stringify(value)}: use a comma-separated list of ${FORMATS.join(", ")}`);
  }
  return list as Format[];
}

function invoices(period: string | undefined, partner: string | undefined): Options["invoices"] {
  if (period === undefined && partner === undefined) return undefined;
  if (period === undefined || partner === undefined) {
    throw new UsageError("--period and --partner go together: give both to render the invoices of a period, or neither");
  }
  // The library names the parameter in its InputError (`location.param`); main.ts prints it as the flag.
  return { period: parsePeriod(period, { param: "period" }), partner: parsePlmn(partner, { param: "partner" }) };
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The options from the command line and the environment, or "help". */
export function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options | "help" {
  const flags = parseFlags(argv);
  if (flags.help) return "help";
  const once = flags.once ?? false;
  const fromBlock = numberFlag(flags["from-block"], "--from-block");
  if (fromBlock !== undefined && !Number.isInteger(fromBlock)) throw new UsageError("--from-block must be a block number");
  return {
    rpcUrl: rpcUrl(required(flags["rpc-url"] ?? env.ROAMLEDGER_RPC_URL, "--rpc-url", "ROAMLEDGER_RPC_URL")),
    privateKey: privateKey(env),
    deployment: flags.deployment ?? env.ROAMLEDGER_DEPLOYMENT,
    invoices: invoices(flags.period, flags.partner),
    out: path.resolve(flags.out ?? env.ROAMLEDGER_OUT ?? "invoices"),
    formats: formats(flags.formats),
    keystore: flags.keystore ?? env.ROAMLEDGER_HOME,
    store: flags.store ?? env.ROAMLEDGER_STORE,
    fromBlock: fromBlock ?? (once ? 0 : undefined),
    pollMs: Math.max(0.1, numberFlag(flags.poll, "--poll") ?? 2) * 1000,
    once,
  };
}
