/**
 * A STAND-IN for a Besu node's PERM JSON-RPC API: NOT Besu. It implements, over HTTP, the methods
 * `besu:permissions` uses, as Besu documents them and as its sources answer (RpcErrorType's messages,
 * PermAdd/RemoveNodes/AccountsToAllowlist's order of checks): the lists, their validation (accounts:
 * 0x and 40 hex digits; nodes: enode URLs with a 128-hex node id, an IP host unless DNS is enabled, ports),
 * an all-or-nothing request, "Success" on success, the same error objects (code -32000 and Besu's
 * message), bootnodes that cannot be removed, `net_enode`, and -32601 for a method it does not offer.
 * Tests make it crash after k calls (`crashAfter`): the server stops answering, as a killed node would.
 * What a real Besu does beyond this (persisting to permissions_config.toml, disconnecting peers, DNS
 * resolution) is not modelled.
 */
import { Wallet } from "ethers";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";

const ERR = {
  accountsNotEnabled: "Account allowlist has not been enabled",
  accountsEmpty: "Request contains an empty list of accounts",
  accountsInvalid: "Request contains an invalid account",
  accountsDuplicated: "Request contains duplicate accounts",
  accountsExisting: "Cannot add an existing account to allowlist",
  accountsAbsent: "Cannot remove an absent account from allowlist",
  nodesNotEnabled: "Node allowlist has not been enabled",
  nodesEmpty: "Request contains an empty list of nodes",
  nodesInvalid: "Request contains an invalid node",
  nodesDuplicated: "Request contains duplicate nodes",
  nodesExisting: "Cannot add an existing node to allowlist",
  nodesMissing: "Cannot remove an absent node from allowlist",
  nodesFixed: "Cannot remove a fixed node (bootnode or static node) from allowlist",
} as const;

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const fail = (message: string) => new RpcFailure(-32000, message);

/** The node id (128 hex digits) of a deterministic node key: a distinct seed, a distinct node. */
export const testNodeId = (seed: number): string =>
  new Wallet(`0x${(BigInt(seed) + 5000n).toString(16).padStart(64, "0")}`).signingKey.publicKey.slice(4);

/** Besu's enode check, in short: scheme, 128 hex id, an IP (or, with DNS enabled, a name), ports 1-65535. */
function parseBesuEnode(url: string, dnsEnabled: boolean): string {
  const m = /^enode:\/\/([0-9a-fA-F]{128})@(\[[0-9a-fA-F:.]+\]|[^:@/?[\]]+):(\d{1,5})(?:\?discport=(\d{1,5}))?$/.exec(url);
  if (!m) throw fail(ERR.nodesInvalid);
  const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  const ip = net.isIP(host) !== 0;
  if (!ip && !dnsEnabled) throw fail(ERR.nodesInvalid);
  for (const p of [m[3], m[4]]) if (p !== undefined && !(Number(p) >= 1 && Number(p) <= 65535)) throw fail(ERR.nodesInvalid);
  // Equality as Besu's: node id, host and listening port.
  return `${m[1].toLowerCase()}@${host.toLowerCase()}:${Number(m[3])}`;
}

export interface StandInOptions {
  accounts?: string[];
  nodes?: string[];
  /** The node's own enode URL (net_enode). */
  selfEnode: string;
  /** Nodes Besu refuses to remove (bootnodes, static nodes). */
  fixedNodes?: string[];
  accountsEnabled?: boolean;
  nodesEnabled?: boolean;
  dnsEnabled?: boolean;
}

export class BesuPermStandIn {
  readonly accounts: string[];
  readonly nodes: string[];
  /** Every method called, in order (reads included). */
  readonly calls: string[] = [];
  /** After this many more calls, the stand-in stops answering (a crashed node); undefined: never. */
  crashAfter?: number;
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly options: StandInOptions) {
    this.accounts = [...(options.accounts ?? [])];
    this.nodes = [...(options.nodes ?? [])];
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error("the stand-in is not listening");
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      if (this.crashAfter !== undefined && this.crashAfter-- <= 0) {
        req.socket.destroy(); // a crashed node: no answer at all
        return;
      }
      const { id, method, params } = JSON.parse(body) as { id: number; method: string; params?: unknown[] };
      this.calls.push(method);
      let reply: object;
      try {
        reply = { jsonrpc: "2.0", id, result: this.dispatch(method, params ?? []) };
      } catch (err) {
        if (!(err instanceof RpcFailure)) throw err;
        reply = { jsonrpc: "2.0", id, error: { code: err.code, message: err.message } };
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(reply));
    });
  }

  private dispatch(method: string, params: unknown[]): unknown {
    const { accountsEnabled = true, nodesEnabled = true } = this.options;
    const accountsOn = () => {
      if (!accountsEnabled) throw fail(ERR.accountsNotEnabled);
    };
    const nodesOn = () => {
      if (!nodesEnabled) throw fail(ERR.nodesNotEnabled);
    };
    switch (method) {
      case "net_enode":
        return this.options.selfEnode;
      case "perm_getAccountsAllowlist":
        accountsOn();
        return [...this.accounts];
      case "perm_getNodesAllowlist":
        nodesOn();
        return [...this.nodes];
      case "perm_addAccountsToAllowlist":
        accountsOn();
        return this.changeAccounts(list(params, "account"), true);
      case "perm_removeAccountsFromAllowlist":
        accountsOn();
        return this.changeAccounts(list(params, "account"), false);
      case "perm_addNodesToAllowlist":
        nodesOn();
        return this.changeNodes(list(params, "enode"), true);
      case "perm_removeNodesFromAllowlist":
        nodesOn();
        return this.changeNodes(list(params, "enode"), false);
      default:
        throw new RpcFailure(-32601, "Method not found");
    }
  }

  /** Besu's order: empty, invalid, duplicated, existing (add) or absent (remove); all or nothing. */
  private changeAccounts(accounts: string[], add: boolean): string {
    if (accounts.length === 0) throw fail(ERR.accountsEmpty);
    if (accounts.some((a) => !/^0x[0-9a-fA-F]{40}$/.test(a))) throw fail(ERR.accountsInvalid);
    const keys = accounts.map((a) => a.toLowerCase());
    if (new Set(keys).size !== keys.length) throw fail(ERR.accountsDuplicated);
    const have = (k: string) => this.accounts.findIndex((a) => a.toLowerCase() === k);
    if (add) {
      if (keys.some((k) => have(k) >= 0)) throw fail(ERR.accountsExisting);
      this.accounts.push(...accounts);
    } else {
      if (keys.some((k) => have(k) < 0)) throw fail(ERR.accountsAbsent);
      for (const k of keys) this.accounts.splice(have(k), 1);
    }
    return "Success";
  }

  private changeNodes(urls: string[], add: boolean): string {
    if (urls.length === 0) throw fail(ERR.nodesEmpty);
    const dns = this.options.dnsEnabled ?? false;
    const keys = urls.map((u) => parseBesuEnode(u, dns));
    if (new Set(keys).size !== keys.length) throw fail(ERR.nodesDuplicated);
    const have = (k: string) => this.nodes.findIndex((n) => parseBesuEnode(n, true) === k);
    if (add) {
      if (keys.some((k) => have(k) >= 0)) throw fail(ERR.nodesExisting);
      this.nodes.push(...urls);
    } else {
      if (keys.some((k) => have(k) < 0)) throw fail(ERR.nodesMissing);
      const fixed = new Set((this.options.fixedNodes ?? []).map((f) => parseBesuEnode(f, true)));
      if (keys.some((k) => fixed.has(k))) throw fail(ERR.nodesFixed);
      for (const k of keys) this.nodes.splice(have(k), 1);
    }
    return "Success";
  }
}

function list(params: unknown[], what: string): string[] {
  const value = params[0];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new RpcFailure(-32602, `Invalid ${what} list parameter (index 0)`);
  }
  return value as string[];
}
