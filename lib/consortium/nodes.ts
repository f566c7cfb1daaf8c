/**
 * A member's Besu nodes on chain (NodeRegistry): the enode URLs every carrier's `besu:permissions` allows
 * to connect to its node. An enode URL is `enode://<node id>@<host>:<port>[?discport=N]`: the node id is
 * the node key's uncompressed secp256k1 public key (128 hex digits, no 0x), the host an IPv4 address, an
 * IPv6 address in brackets or a DNS name, the port the P2P listening port. Besu matches an allowlisted
 * node by node id, host and listening port (EnodeURLImpl.sameListeningEndpoint), never by the discovery
 * port, so the registry keeps those three; a `discport` is accepted and dropped. Inputs are checked here
 * (the contract checks what it can) before anything is sent; a revert comes back decoded, with its hint.
 */
import net from "node:net";
import { SigningKey } from "ethers";
import { ConfigError, InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { sendAndWait } from "../chain/send";
import { memberLabel, memberOrNone, signerMember } from "./members";
import type { RoamLedgerClient } from "../chain/client";
import type { NodeRegistry } from "../../typechain-types";
import type { Hex } from "../util/hex";

/** How many nodes a member may register (NodeRegistry's MAX_NODES). */
export const MAX_MEMBER_NODES = 16;

/** What an enode URL looks like, for messages. */
export const ENODE_FORMAT = "enode://<128 hex digits of the node id>@<IPv4, [IPv6] or DNS name>:<port>[?discport=N]";

const ENODE_RE = /^enode:\/\/([^@]*)@(\[[^\]]*\]|[^:/?#[\]]*):([^?/#]*)(?:\?discport=([^&#]*))?$/;
const NODE_ID_RE = /^[0-9a-fA-F]{128}$/;
const DNS_LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** An enode URL, parsed: node id in lower case, host without brackets, port. */
export interface Enode {
  /** 128 lower-case hex digits, no 0x. */
  id: string;
  /** An IPv4 or IPv6 address (IPv6 without brackets) or a DNS name. */
  host: string;
  port: number;
  /** What kind of host: Besu needs DNS support (`--Xdns-enabled`) for a DNS name. */
  hostKind: "ipv4" | "ipv6" | "dns";
}

/** A registered node, with the member that registered it. */
export interface MemberNode extends Enode {
  plmn: Hex;
}

function invalid(url: string, param: string, why: string): InputError {
  return new InputError(`${JSON.stringify(url)} is not an enode URL: ${why}`, {
    location: { param },
    hint: `write it as ${ENODE_FORMAT}; Besu prints a node's own with admin_nodeInfo (its "enode").`,
  });
}

function hostKind(host: string): Enode["hostKind"] | undefined {
  if (net.isIPv4(host)) return "ipv4";
  if (net.isIPv6(host)) return "ipv6";
  if (/^[0-9.]+$/.test(host)) return undefined; // looks like an IPv4 address but is none (e.g. 10.0.0.256)
  if (host.length > 253 || host.endsWith(".")) return undefined;
  return host.split(".").every((label) => DNS_LABEL_RE.test(label)) ? "dns" : undefined;
}

function parsePort(text: string, url: string, param: string, what: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw invalid(url, param, `the ${what} ${JSON.stringify(text)} is not a port 1-65535`);
  return port;
}

/**
 * Parses and checks an enode URL (`param` names where it came from in errors; default "url"): the node id is
 * 128 hex digits and a point of secp256k1 (a real node key's public key), the host an IPv4 address, an
 * IPv6 address in brackets or a DNS name, the ports 1-65535.
 */
export function parseEnode(url: string, param = "url"): Enode {
  const m = ENODE_RE.exec(url.trim());
  if (!m) throw invalid(url, param, "it does not have the shape of one");
  const [, id, rawHost, portText, discport] = m;
  if (!NODE_ID_RE.test(id)) {
    throw invalid(url, param, `the node id must be exactly 128 hex digits without 0x (found ${id.length} characters)`);
  }
  try {
    SigningKey.computePublicKey(`0x04${id}`);
  } catch {
    throw invalid(url, param, "the node id is not a secp256k1 public key (a digit was mistyped or lost)");
  }
  const bracketed = rawHost.startsWith("[");
  const host = bracketed ? rawHost.slice(1, -1) : rawHost;
  const kind = hostKind(host);
  if (kind === undefined || bracketed !== (kind === "ipv6")) {
    throw invalid(url, param, `the host ${JSON.stringify(rawHost)} is not an IPv4 address, an IPv6 address in brackets or a DNS name`);
  }
  const port = parsePort(portText, url, param, "port");
  if (discport !== undefined) parsePort(discport, url, param, "discport");
  return { id: id.toLowerCase(), host: kind === "ipv6" ? host.toLowerCase() : host, port, hostKind: kind };
}

/** The enode URL of a node: `enode://<id>@<host>:<port>`, IPv6 hosts in brackets. */
export function formatEnode(node: Pick<Enode, "id" | "host" | "port">): string {
  return `enode://${node.id}@${net.isIPv6(node.host) ? `[${node.host}]` : node.host}:${node.port}`;
}

/** The node id as the registry takes it: two bytes32, x then y. */
export function nodeIdWords(id: string): [Hex, Hex] {
  return [`0x${id.slice(0, 64)}`, `0x${id.slice(64)}`];
}

/** The NodeRegistry of a client's deployment, or a ConfigError when the deployment predates it. */
export function nodeRegistryOf(client: RoamLedgerClient): NodeRegistry {
  if (client.nodes === undefined) {
    throw new ConfigError("this deployment has no NodeRegistry (it was deployed before members registered their nodes)", {
      hint: "deploy again with the same parameters: Ignition deploys only what is missing, and the deployment record then names the NodeRegistry.",
      next: { operation: "deploy" },
    });
  }
  return client.nodes;
}

function toMemberNode(n: { plmn: string; port: bigint; idHigh: string; idLow: string; host: string }): MemberNode {
  const id = `${n.idHigh.slice(2)}${n.idLow.slice(2)}`.toLowerCase();
  const kind = hostKind(n.host) ?? "dns";
  return { plmn: n.plmn.toLowerCase() as Hex, id, host: n.host, port: Number(n.port), hostKind: kind };
}

/** A member's registered nodes, in the registry's order. */
export async function nodesOf(client: RoamLedgerClient, plmn: Hex): Promise<MemberNode[]> {
  return (await nodeRegistryOf(client).nodesOf(plmn)).map(toMemberNode);
}

/** Every member's registered nodes (suspended members' included), in member order. */
export async function allNodes(client: RoamLedgerClient): Promise<MemberNode[]> {
  return (await nodeRegistryOf(client).allNodes()).map(toMemberNode);
}

/** The member that registered a node id, or undefined. */
export async function nodeHolder(client: RoamLedgerClient, id: string): Promise<Hex | undefined> {
  return memberOrNone(await nodeRegistryOf(client).nodeHolder(...nodeIdWords(id)));
}

/** What registering or removing a node starts from: the parsed URL, the registry, the node's holder and the signer's member. */
async function nodeChange(client: RoamLedgerClient, url: string, param = "url") {
  const node = parseEnode(url, param);
  const registry = nodeRegistryOf(client);
  const [holder, self] = await Promise.all([nodeHolder(client, node.id), signerMember(client)]);
  return { param, node, registry, holder, self };
}

/**
 * Registers a node of the signer's member (the signer: an admin key of an active member) from its enode URL.
 * Refused before sending: a malformed URL, a node id any member holds (named; the signer's own member
 * included), a 17th node. Returns the node as registered and the transaction hash.
 */
export async function registerNode(
  client: RoamLedgerClient,
  url: string,
  options: { param?: string } = {},
): Promise<{ node: Enode; hash: string }> {
  const { param, node, registry, holder, self } = await nodeChange(client, url, options.param);
  if (holder !== undefined) {
    const own = holder === self;
    throw new InputError(
      `node ${node.id.slice(0, 16)}... is registered by ${own ? "your member, " : ""}${await memberLabel(client, holder)}`,
      {
        location: { param },
        hint: own
          ? "to change its host or port, remove it (--remove with its old URL) and add it again."
          : `a node id is registered by one member at a time: if it is your node, ask ${formatPlmn(holder)} to remove it.`,
      },
    );
  }
  if (self !== undefined && (await registry.nodesOf(self)).length >= MAX_MEMBER_NODES) {
    throw new InputError(`${formatPlmn(self)} has ${MAX_MEMBER_NODES} nodes registered already, the most a member may`, {
      location: { param },
      hint: "remove one it no longer runs first.",
      next: { operation: "carrier:node", args: { remove: "URL" }, caller: true },
    });
  }
  const receipt = await sendAndWait(() => registry.registerNode(...nodeIdWords(node.id), node.host, node.port));
  return { node, hash: receipt.hash };
}

/**
 * Removes one of the signer's member's nodes, named by its enode URL (only the node id counts: the host and
 * port may be the old ones). Refused before sending when the member has not registered it (saying who has).
 */
export async function removeNode(
  client: RoamLedgerClient,
  url: string,
  options: { param?: string } = {},
): Promise<{ node: Enode; hash: string }> {
  const { param, node, registry, holder, self } = await nodeChange(client, url, options.param);
  if (self !== undefined && holder !== self) {
    throw new InputError(
      `${formatPlmn(self)} has not registered node ${node.id.slice(0, 16)}...: ${holder === undefined ? "no member has" : `${await memberLabel(client, holder)} has`}`,
      { location: { param }, hint: "remove only your member's nodes; listing them shows which." },
    );
  }
  const receipt = await sendAndWait(() => registry.removeNode(...nodeIdWords(node.id)));
  return { node, hash: receipt.hash };
}
