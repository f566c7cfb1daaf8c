/**
 * A carrier's backend on RoamLedger, in small: it connects with the carrier's operator key, prints every
 * on-chain event that concerns the carrier as a JSON line (fraud flags on its devices, batches billing it
 * or billed by it, decisions and disputes, closed periods, invoices proposed and closed, claims,
 * settlements, its partners' withdrawal requests), and writes the invoices of a period with a partner as
 * JSON, CSV and PDF files, rated from its key store's terms and the sealed payloads (the chain holds only
 * nets and commitments): at start, and again whenever the chain closes or settles one. `--once` reads
 * what is on-chain now, prints a summary and exits. `--help` for the options.
 */
import { JsonRpcProvider, Wallet } from "ethers";
import {
  addressesFromIgnition,
  BaseError,
  connectRoamLedger,
  createRoamLedgerReader,
  formatLocation,
  formatPeriod,
  formatPlmn,
  type Hex,
  InputError,
  loadDeployment,
  NodeConnectionError,
  type RoamLedgerAddresses,
  readJsonFile,
  watchChain,
  type WatchEvent,
} from "roamledger";
import { createPublicClient, http } from "viem";
import { renderInvoices } from "./invoices";
import { HELP, type Options, readOptions, UsageError } from "./options";

const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

function addressesFor(opts: Options, chainId: number): RoamLedgerAddresses {
  if (!opts.deployment) return loadDeployment(process.cwd(), chainId);
  return addressesFromIgnition(readJsonFile(opts.deployment, "deployment").value as Record<string, string>, opts.deployment);
}

/** The typed clients of our operator account, and the carrier it operates for. */
async function connect(opts: Options) {
  const publicClient = createPublicClient({ transport: http(opts.rpcUrl, { retryCount: 1, timeout: 10_000 }) });
  let chainId: number;
  try {
    chainId = await publicClient.getChainId();
  } catch (cause) {
    throw new NodeConnectionError(`cannot reach the chain node at ${opts.rpcUrl}`, {
      hint: "check --rpc-url (or ROAMLEDGER_RPC_URL) and that the node is running.",
      cause,
    });
  }
  const addresses = addressesFor(opts, chainId);
  // cacheTimeout -1: ethers otherwise answers a repeated request from a 250 ms cache, and two transactions
  // sent back to back (the library's ingest does) would get the same pending nonce.
  const provider = new JsonRpcProvider(opts.rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1 });
  if ((await provider.getCode(addresses.carrierRegistry)) === "0x") {
    throw new UsageError(
      `no CarrierRegistry at ${addresses.carrierRegistry} on chain ${chainId}: the deployment record (--deployment or ROAMLEDGER_DEPLOYMENT) is another chain's, or the node was reset`,
    );
  }
  const wallet = new Wallet(opts.privateKey, provider);
  const client = connectRoamLedger(addresses, wallet);
  const self = (await client.carriers.memberOf(wallet.address)) as Hex;
  if (/^0x0+$/.test(self)) {
    throw new UsageError(`ROAMLEDGER_PRIVATE_KEY is the key of ${wallet.address}, which operates for no member on chain ${chainId}`);
  }
  return { chainId, provider, client, self, reader: createRoamLedgerReader(publicClient, addresses) };
}
type Connection = Awaited<ReturnType<typeof connect>>;

/** A watch event as an alert line; a fraud flag carries the device's record as the registry has it now. */
async function alertOf(event: WatchEvent, conn: Connection): Promise<object> {
  if (event.kind !== "fraud-flag") return { type: "alert", ...event };
  const device = await conn.reader.getDevice(String(event.data.deviceId) as Hex);
  return { type: "alert", ...event, device: { status: device.status, home: device.home, maker: device.maker } };
}

/** Does this event change an invoice of the period we render? */
function touchesInvoices(event: WatchEvent, opts: Options): boolean {
  const kinds: WatchEvent["kind"][] = ["invoice-closed", "settled", "settled-alone"];
  return kinds.includes(event.kind) && event.data.period === opts.invoices?.period;
}

async function invoicesOf(conn: Connection, opts: Options) {
  if (!opts.invoices) return [];
  const { out, formats, keystore, store } = opts;
  const lines = await renderInvoices(conn.client, { self: conn.self, ...opts.invoices, out, formats, keystore, store });
  for (const line of lines) print(line);
  return lines;
}

/**
 * Prints each event as an alert line, in block order: watchChain does not wait for `onEvent`, so the
 * lines (and the invoice renders an event triggers) queue up; `drained` resolves once all are out.
 */
function alertPrinter(conn: Connection, opts: Options) {
  const kinds: Record<string, number> = {};
  let queue = Promise.resolve();
  return {
    kinds,
    onEvent: (event: WatchEvent) => {
      kinds[event.kind] = (kinds[event.kind] ?? 0) + 1;
      queue = queue.then(async () => {
        print(await alertOf(event, conn));
        if (!opts.once && touchesInvoices(event, opts)) await invoicesOf(conn, opts);
      });
    },
    drained: () => queue,
  };
}

/** `--once`: the events up to the current block, the invoices, then a summary line. */
async function once(conn: Connection, opts: Options): Promise<void> {
  const toBlock = await conn.provider.getBlockNumber();
  const alerts = alertPrinter(conn, opts);
  const { client, provider, self } = conn;
  await watchChain({ client, provider, self, fromBlock: opts.fromBlock, once: true, untilBlock: toBlock, onEvent: alerts.onEvent });
  await alerts.drained();
  const invoices = await invoicesOf(conn, opts);
  const carrier = formatPlmn(self);
  print({ type: "summary", carrier, chainId: conn.chainId, fromBlock: opts.fromBlock, toBlock, alerts: alerts.kinds, invoices });
}

/** The service: invoices now, then every new event, until SIGINT or SIGTERM. */
async function serve(conn: Connection, opts: Options): Promise<void> {
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
  await invoicesOf(conn, opts);
  const period = opts.invoices && formatPeriod(opts.invoices.period);
  print({ type: "watching", carrier: formatPlmn(conn.self), chainId: conn.chainId, period });
  const alerts = alertPrinter(conn, opts);
  const { client, provider, self } = conn;
  await watchChain({
    client,
    provider,
    self,
    fromBlock: opts.fromBlock,
    pollMs: opts.pollMs,
    signal: stop.signal,
    onEvent: alerts.onEvent,
  });
  await alerts.drained();
}

const kebab = (param: string) => `--${param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** What to print for an error, and the exit code: 2 for bad options, 1 for the rest. */
function report(err: unknown): { text: string; code: number } {
  if (err instanceof UsageError) return { text: `${err.message}\nRun with --help for the options.`, code: 2 };
  if (err instanceof InputError && err.location?.param) {
    return { text: `${formatLocation(err.location, kebab)}: ${err.problem}${err.hint ? `\n${err.hint}` : ""}`, code: 2 };
  }
  if (err instanceof BaseError) {
    const next = err.next && `RoamLedger operation that helps: ${err.next.operation} ${JSON.stringify(err.next.args ?? {})}`;
    return { text: [err.shortMessage, err.details, err.hint, next].filter(Boolean).join("\n"), code: 1 };
  }
  return { text: err instanceof Error ? (err.stack ?? err.message) : String(err), code: 1 };
}

async function main(): Promise<void> {
  const opts = readOptions(process.argv.slice(2), process.env);
  if (opts === "help") {
    console.log(HELP);
    return;
  }
  const conn = await connect(opts);
  await (opts.once ? once(conn, opts) : serve(conn, opts));
  conn.provider.destroy();
}

main().catch((err: unknown) => {
  const { text, code } = report(err);
  console.error(`error: ${text}`);
  process.exitCode = code;
});
