import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { SigningKey, computeAddress, keccak256, toUtf8Bytes } from "ethers";
import { ConfigError, InputError } from "../core/errors";
import { bytesToHex, type Hex } from "../util/hex";
import { qbftGenesis, type QbftGenesis, type QbftGenesisOptions } from "./genesis";
import { checkAccounts, nodeToml, permissionsToml } from "./nodeConfig";
import { checkNodeConfig, checkPermissionsConfig, checkQbftGenesis } from "./schema";
import { parseFlatToml } from "./toml";

/**
 * The files of a Besu QBFT network for RoamLedger, as `besu:genesis` writes them and
 * networks/besu/docker-compose.yml mounts them:
 *
 *   genesis.json                          the chain (validators in extraData)
 *   nodes.json                            each node's name, role, IP, address and enode (public)
 *   config/<node>.toml                    the node's Besu configuration (nodeConfig.ts)
 *   permissions/<node>/permissions_config.toml
 *                                         the node's first allowlists (every node of the kit; the
 *                                         accounts that may transact before RoamLedger is deployed);
 *                                         Besu rewrites it when the PERM API changes them
 *   keys/<node>/key                       node private key (mode 0600; never commit it)
 *   keys/<node>/key.pub          node public key
 *   data/<node>/                 the node's database
 *
 * The bootnode is a non-validating node; the validators are validator1..N. Node addresses are
 * validator addresses in QBFT.
 */

/** Docker network of the compose file; node i gets .10 + i (the bootnode .10). */
export const BESU_SUBNET = "172.16.239.0/24";
export const P2P_PORT = 30303;
const FIRST_HOST = 10;

/** The documented seed of the throw-away development keys (networks/besu/dev/). */
export const DEV_SEED = "roamledger-dev";

export type NodeRole = "bootnode" | "validator";

export interface NodeSpec {
  name: string;
  role: NodeRole;
  ip: string;
}

export interface NodeInfo extends NodeSpec {
  /** Checksummed; for a validator, its validator address. */
  address: string;
  /** Uncompressed secp256k1 public key without the 04 prefix (64 bytes), as in an enode. */
  publicKey: Hex;
  enode: string;
}

/** The nodes of a network with `validators` validators plus one bootnode. */
export function networkLayout(validators: number): NodeSpec[] {
  if (!Number.isInteger(validators) || validators < 1 || validators > 200) {
    throw new InputError(`the number of validators must be an integer from 1 to 200, found ${validators}`, {
      location: { param: "validators" },
      hint: "a consortium runs 4 or more (QBFT tolerates f faulty validators out of 3f + 1).",
    });
  }
  const base = BESU_SUBNET.split(".").slice(0, 3).join(".");
  return [
    { name: "bootnode", role: "bootnode", ip: `${base}.${FIRST_HOST}` },
    ...Array.from({ length: validators }, (_, i) => ({
      name: `validator${i + 1}`,
      role: "validator" as const,
      ip: `${base}.${FIRST_HOST + 1 + i}`,
    })),
  ];
}

/** secp256k1 group order: a private key must be in [1, n). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * A node's private key: fresh random bytes, or with `devSeed` a deterministic throw-away key
 * keccak256("roamledger/besu-dev-node-key/v1:<seed>:<node name>") that anyone can recompute.
 */
export function nodeKey(name: string, devSeed?: string): Hex {
  for (let attempt = 0; attempt < 8; attempt++) {
    const key =
      devSeed === undefined
        ? bytesToHex(randomBytes(32))
        : (keccak256(toUtf8Bytes(`roamledger/besu-dev-node-key/v1:${devSeed}:${name}`)) as Hex);
    const k = BigInt(key);
    if (k > 0n && k < SECP256K1_N) return key;
    if (devSeed !== undefined) throw new InputError(`the dev seed gives no valid key for ${name}`, { hint: "pick another seed." });
  }
  throw new Error("no valid secp256k1 key from the random source");
}

/** Address, public key and enode of a node with this private key. */
export function nodeInfo(spec: NodeSpec, privateKey: Hex): NodeInfo {
  const uncompressed = SigningKey.computePublicKey(privateKey, false);
  const publicKey = `0x${uncompressed.slice(4)}` as Hex;
  return {
    ...spec,
    address: computeAddress(uncompressed),
    publicKey,
    enode: `enode://${publicKey.slice(2)}@${spec.ip}:${P2P_PORT}`,
  };
}

export interface BesuNetworkOptions extends Omit<QbftGenesisOptions, "validators"> {
  validators: number;
  /** Deterministic throw-away keys from this seed (development only); random keys when absent. */
  devSeed?: string;
  /** Accounts that may transact from the first block (the deployer, infrastructure accounts): at least one. */
  accounts: readonly string[];
}

/** One file of the kit: relative path, content, and whether it is a secret. */
export interface KitFile {
  path: string;
  content: string;
  secret: boolean;
}

export interface BesuNetwork {
  nodes: NodeInfo[];
  genesis: QbftGenesis;
  files: KitFile[];
}

/** Keys, genesis and node configuration of a new network (nothing written yet). */
export function buildBesuNetwork(options: BesuNetworkOptions): BesuNetwork {
  const specs = networkLayout(options.validators);
  const accounts = checkAccounts(options.accounts);
  if (accounts.length === 0) {
    throw new InputError("no account may transact on the new chain", {
      location: { param: "accounts" },
      hint: "pass --accounts with the deployer's address (and the infrastructure accounts): with account permissioning on, nobody else can deploy RoamLedger.",
    });
  }
  const keys = specs.map((s) => nodeKey(s.name, options.devSeed));
  const nodes = specs.map((s, i) => nodeInfo(s, keys[i]));
  const genesis = qbftGenesis({ ...options, validators: nodes.filter((n) => n.role === "validator").map((n) => n.address) });
  const bootnode = nodes.find((n) => n.role === "bootnode");
  // networkLayout always starts with the bootnode: its absence is a bug here, not a user's mistake.
  if (!bootnode) throw new Error("the network layout has no bootnode");
  const devNote =
    options.devSeed === undefined
      ? undefined
      : `THROW-AWAY DEVELOPMENT KEYS derived from the public seed "${options.devSeed}": anyone can recompute them. Never use them for a real network.`;
  const files: KitFile[] = [
    { path: "genesis.json", content: `${JSON.stringify(genesis, null, 2)}\n`, secret: false },
    {
      path: "nodes.json",
      content: `${JSON.stringify(
        {
          ...(devNote ? { warning: devNote, devSeed: options.devSeed } : {}),
          chainId: options.chainId,
          nodes: nodes.map(({ name, role, ip, address, enode }) => ({ name, role, ip, address, enode })),
        },
        null,
        2,
      )}\n`,
      secret: false,
    },
    ...nodes.flatMap((n) => [
      {
        path: `config/${n.name}.toml`,
        content: nodeToml({
          name: n.name,
          role: n.role,
          ip: n.ip,
          p2pPort: P2P_PORT,
          bootnodes: n.role === "bootnode" ? [] : [bootnode.enode],
          devNote,
        }),
        secret: false,
      },
      {
        path: `permissions/${n.name}/permissions_config.toml`,
        content: permissionsToml(
          nodes.map((x) => x.enode),
          accounts,
          devNote,
        ),
        secret: false,
      },
    ]),
    ...nodes.flatMap((n, i) => [
      { path: `keys/${n.name}/key`, content: `${keys[i]}\n`, secret: true },
      { path: `keys/${n.name}/key.pub`, content: `${n.publicKey}\n`, secret: false },
    ]),
  ];
  checkKit(files);
  return { nodes, genesis, files };
}

/**
 * Checks every file of the kit against what Besu's documentation requires (schema.ts) before anything is
 * written; a problem here is a bug of the generator, never the user's input (that was checked before).
 */
export function checkKit(files: readonly KitFile[]): void {
  const problems: string[] = [];
  for (const f of files) {
    const found =
      f.path === "genesis.json"
        ? checkQbftGenesis(JSON.parse(f.content))
        : f.path.startsWith("config/")
          ? checkNodeConfig(parseFlatToml(f.content, f.path))
          : f.path.endsWith("permissions_config.toml")
            ? checkPermissionsConfig(parseFlatToml(f.content, f.path))
            : [];
    problems.push(...found.map((p) => `${f.path}: ${p}`));
  }
  if (problems.length > 0) throw new Error(`besu:genesis would write files Besu refuses:\n  ${problems.join("\n  ")}`);
}

/**
 * Writes the kit under `dir` (and an empty data/<node>/ per node). Refuses to overwrite existing
 * node keys unless `force`: a regenerated key is a different validator, and the old chain would no
 * longer start. Secret files get mode 0600.
 */
export function writeBesuNetwork(dir: string, network: BesuNetwork, options: { force?: boolean } = {}): string[] {
  const existing = network.files.filter((f) => f.secret && fs.existsSync(path.join(dir, f.path)));
  if (existing.length > 0 && !options.force) {
    throw new ConfigError(`${path.join(dir, existing[0].path)} exists: node keys are never overwritten`, {
      details: "New keys make new validators; a chain started from the old genesis would stop.",
      hint: "write the network to another folder, or force the replacement of the whole network (and delete its data/ folder).",
    });
  }
  const written: string[] = [];
  for (const f of network.files) {
    const file = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, f.content, { mode: f.secret ? 0o600 : 0o644 });
    if (f.secret) fs.chmodSync(file, 0o600);
    written.push(file);
  }
  for (const n of network.nodes) fs.mkdirSync(path.join(dir, "data", n.name), { recursive: true });
  return written;
}
