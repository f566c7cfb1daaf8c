import { Interface, type ErrorFragment } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  DevicePolicy__factory,
  Groth16Verifier__factory,
  NodeRegistry__factory,
  RatingAdjudicator__factory,
  RevealLib__factory,
  SettlementEscrow__factory,
  SettlementToken__factory,
  UsageLedger__factory,
} from "../../typechain-types";
import { BaseError, ContractRevertError, NodeConnectionError, NodeRequestError } from "../core/errors";
import { formatPlmn, isValidPlmnHex } from "../core/plmn";
import { REVERT_HINTS } from "./revertHints";

/**
 * The deployable contracts' ABIs and the linked RevealLib's: every custom error a RoamLedger contract can
 * revert with (they bubble up through calls), OpenZeppelin's and the settlement token's included.
 */
export const REVERTING_ABIS = [
  CarrierRegistry__factory.abi,
  DeviceRegistry__factory.abi,
  RoamingAgreements__factory.abi,
  DevicePolicy__factory.abi,
  UsageLedger__factory.abi,
  SettlementEscrow__factory.abi,
  RevealLib__factory.abi,
  SettlementToken__factory.abi,
  RatingAdjudicator__factory.abi,
  Groth16Verifier__factory.abi,
  NodeRegistry__factory.abi,
] as const;

const errorInterface = new Interface(dedupeErrors(REVERTING_ABIS.flat()));

function dedupeErrors(abi: readonly { type: string; name?: string }[]) {
  const seen = new Set<string>();
  return abi.filter((f) => {
    if (f.type !== "error" || f.name === undefined || seen.has(f.name)) return false;
    seen.add(f.name);
    return true;
  });
}

/** What to do about a custom error, by its name (undefined for a name no contract declares). */
export function revertHint(name: string): string | undefined {
  return Object.hasOwn(REVERT_HINTS, name) ? REVERT_HINTS[name] : undefined;
}

function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 6) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
  for (const key of ["error", "info", "cause", "data"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function show(value: unknown, type: string): string {
  if (typeof value === "string" && isValidPlmnHex(value)) return formatPlmn(value);
  // A TADIG code (bytes5) of printable ASCII reads as its text, e.g. DEUD1.
  if (type === "bytes5" && typeof value === "string") {
    const text = Buffer.from(value.slice(2), "hex").toString("latin1");
    if (/^[\x20-\x7e]{5}$/.test(text)) return text;
  }
  return String(value);
}

/**
 * Turns a failed call or transaction into a ContractRevertError naming the custom error and its
 * arguments (PLMN ids shown as 262-01), with a hint when there is a usual remedy. Errors that are not
 * reverts come back as they were.
 */
export function decodeRevert(err: unknown): unknown {
  if (err instanceof BaseError) return err;
  const data = findRevertData(err);
  if (!data) return err;
  let parsed: ReturnType<typeof errorInterface.parseError>;
  try {
    parsed = errorInterface.parseError(data);
  } catch {
    return err;
  }
  if (!parsed) return err;
  const fragment: ErrorFragment = parsed.fragment;
  const args = fragment.inputs.map((input, i) => `${input.name}=${show(parsed.args[i], input.type)}`);
  return new ContractRevertError(parsed.name, args, { hint: revertHint(parsed.name), cause: err });
}

/**
 * The custom error a failed call reverted with, by name with its decoded arguments (raw values: bigints,
 * hex strings), or undefined when `err` is not a revert of a RoamLedger contract. For callers that turn a
 * revert into their own message (`ContractRevertError` carries the arguments as display text).
 */
export function parseRevert(err: unknown): { name: string; args: readonly unknown[] } | undefined {
  let e: unknown = err;
  while (e instanceof BaseError) e = e.cause;
  const data = findRevertData(e);
  if (!data) return undefined;
  try {
    const parsed = errorInterface.parseError(data);
    return parsed ? { name: parsed.name, args: [...parsed.args] } : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a contract call, rethrowing a revert as a decoded ContractRevertError. */
export async function withDecodedRevert<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw decodeRevert(err);
  }
}

/** Error codes of a connection that was refused, broke or timed out (Node's sockets, DNS, undici's HTTP client). */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
/** Hardhat's "cannot connect to the network" (HH108) and "network connection timed out" (HH109). */
const HARDHAT_CONNECTION_ERRORS = new Set([108, 109]);

/**
 * What `pick` finds in `err` or, failing that, in the errors it wraps (cause, parent, error, info; at most
 * 8 deep), else undefined.
 */
function findInErrorChain<T>(err: unknown, pick: (e: Record<string, unknown>) => T | undefined, depth = 0): T | undefined {
  if (!err || typeof err !== "object" || depth > 8) return undefined;
  const e = err as Record<string, unknown>;
  const found = pick(e);
  if (found !== undefined) return found;
  for (const key of ["cause", "parent", "error", "info"]) {
    const inner = findInErrorChain(e[key], pick, depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** The code of a failed or broken connection to the node in `err` or an error it wraps, else undefined. */
export function connectionFailure(err: unknown): string | undefined {
  return findInErrorChain(err, (e) => {
    if (typeof e.code === "string" && CONNECTION_CODES.has(e.code)) return e.code;
    if (e._isHardhatError === true && HARDHAT_CONNECTION_ERRORS.has(e.number as number))
      return connectionFailure(e.parent) ?? `HH${e.number}`;
    return undefined;
  });
}

/**
 * A NodeConnectionError when `err` is a refused, broken or timed-out connection to the chain node of
 * `network` (the node stopped, restarted or is unreachable), else undefined. The message names the network
 * and its URL and says to run the command again: the resumable commands (usage:ingest, device:register)
 * pick up where they stopped, checking the chain for what they sent before.
 */
export function nodeConnectionError(err: unknown, network: { name: string; url?: string }): NodeConnectionError | undefined {
  const code = connectionFailure(err);
  if (!code) return undefined;
  const where = `network ${network.name}${network.url ? ` (${network.url})` : ""}`;
  const what =
    code === "ECONNREFUSED" || code === "HH108"
      ? "connection refused"
      : /TIMEOUT|ETIMEDOUT|HH109/.test(code)
        ? "timed out"
        : "connection closed";
  return new NodeConnectionError(`lost the connection to the chain node of ${where}: ${what} (${code})`, {
    details:
      "The node stopped, restarted or cannot be reached. What this command sent before is on-chain or was never " +
      "received; usage:ingest and device:register check the chain for it when run again and send nothing twice.",
    hint: "start the node (or restore the connection to it), then run the same command again.",
    cause: err,
  });
}

/** The JSON-RPC error the node answered with, in `err` or an error it wraps (Hardhat's ProviderError), else undefined. */
function providerError(err: unknown): { code: number; message: string } | undefined {
  return findInErrorChain(err, (e) =>
    e.name === "ProviderError" && typeof e.code === "number" && typeof e.message === "string"
      ? { code: e.code, message: e.message }
      : undefined,
  );
}

/**
 * A NodeRequestError when the node answered a request of the command with an error that is not a
 * contract's revert (those are decoded first) nor a lost connection, e.g. a state the node no longer
 * keeps ("block height is 50 but requested was 49"); else undefined.
 */
export function nodeRequestError(err: unknown, network: { name: string; url?: string }): NodeRequestError | undefined {
  const found = providerError(err);
  // A revert the contracts' errors do not decode stays as it is: running again would not help.
  if (!found || /revert/i.test(found.message)) return undefined;
  const where = `network ${network.name}${network.url ? ` (${network.url})` : ""}`;
  return new NodeRequestError(`the chain node of ${where} refused a request: ${found.message} (JSON-RPC error ${found.code})`, {
    details:
      "What this command sent before is on-chain or was never received; usage:ingest and device:register check the " +
      "chain for it when run again and send nothing twice.",
    hint: "run the same command again; if the node refuses again, look at its log and its settings (e.g. how much state history it keeps).",
    cause: err,
  });
}
