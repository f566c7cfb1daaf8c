import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, encodeRlp, getAddress } from "ethers";
import type { HttpNetworkConfig } from "hardhat/types";
import { deployConsortium, meterPolicy, localId, PLMN } from "../helpers/fixtures";
import { parseFlatToml } from "../helpers/toml";
import { decodeQbftExtraData, encodeQbftExtraData } from "../../lib/besu/extraData";
import { FORK_BLOCKS, FORKS_AFTER_SHANGHAI, QBFT_DEFAULTS, qbftGenesis, type QbftGenesis } from "../../lib/besu/genesis";
import { BESU_SUBNET, DEV_SEED, buildBesuNetwork, networkLayout, writeBesuNetwork } from "../../lib/besu/network";
import { BESU_IMAGE, NODE_PATHS, RPC_APIS } from "../../lib/besu/nodeConfig";
import { readDeployParameters } from "../../lib/consortium/parameters";
import { DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";
import { Keystore } from "../../lib/keys/keystore";
import { type BaseError, ConfigError, InputError, InputErrors } from "../../lib/core/errors";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

const ROOT = hre.config.paths.root;
const KIT = path.join(ROOT, "networks", "besu");
const DEV = path.join(KIT, "dev");
const read = (file: string) => fs.readFileSync(file, "utf8");

interface DevNodes {
  chainId: number;
  nodes: { name: string; role: string; ip: string; address: string; enode: string }[];
}
interface ComposeService {
  image?: string;
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  networks?: Record<string, { ipv4_address: string }>;
}
interface Compose {
  "x-besu"?: ComposeService;
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam: { config: { subnet: string }[] } }>;
}

const besuNetwork = () => hre.config.networks.besu as HttpNetworkConfig;
const devGenesis = (): QbftGenesis => JSON.parse(read(path.join(DEV, "genesis.json")));
const devNodes = (): DevNodes => JSON.parse(read(path.join(DEV, "nodes.json")));
/** The dev kit's deployer: hardhat's first default account (a public throw-away key), as networks/besu/dev/README.md says. */
const DEV_DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const devToml = (node: string) => parseFlatToml(read(path.join(DEV, "config", `${node}.toml`)), `${node}.toml`);
const devPermissions = (node: string) =>
  parseFlatToml(read(path.join(DEV, "permissions", node, "permissions_config.toml")), `${node}/permissions_config.toml`);
/** Every file of the kit but the private keys, relative to its folder. */
const kitFiles = (nodes: readonly string[]) => [
  "genesis.json",
  "nodes.json",
  ...nodes.flatMap((n) => [`config/${n}.toml`, `permissions/${n}/permissions_config.toml`, `keys/${n}/key.pub`]),
];

/** A Besu config value that must be an array of strings. */
function strings(value: unknown): string[] {
  expect(value).to.be.an("array");
  return value as string[];
}

describe("networks/besu: the consortium chain kit", function () {
  describe("lib/besu extraData", function () {
    const validators = Array.from({ length: 4 }, () => Wallet.createRandom().address);

    it("encodes RLP([32-byte vanity, validators ascending, no vote, round 0, no seals])", function () {
      const extra = encodeQbftExtraData(validators);
      const sorted = [...validators].map((v) => v.toLowerCase()).sort();
      expect(extra).to.equal(encodeRlp([`0x${"00".repeat(32)}`, sorted, [], "0x", []]));
      // 0xf87a: a 122-byte list; then the vanity; then a list of four 20-byte strings; c0 80 c0.
      expect(extra.slice(0, 6)).to.equal("0xf87a");
      expect(extra.endsWith("c080c0")).to.equal(true);
    });

    it("decodes back to exactly the validators", function () {
      const decoded = decodeQbftExtraData(encodeQbftExtraData(validators));
      expect(decoded.validators).to.deep.equal(
        [...validators].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).map((v) => getAddress(v)),
      );
      expect(decoded).to.deep.include({ vanity: `0x${"00".repeat(32)}`, vote: null, round: 0, seals: [] });
    });

    it("refuses no validators, duplicates and non-addresses", function () {
      expect(() => encodeQbftExtraData([])).to.throw(InputError, "at least one validator");
      expect(() => encodeQbftExtraData([validators[0], validators[0].toLowerCase()])).to.throw(InputError, "listed twice");
      expect(() => encodeQbftExtraData(["0x1234"])).to.throw(InputError, "is not an address");
    });

    it("refuses what is not a QBFT extraData", function () {
      expect(() => decodeQbftExtraData("0x1234")).to.throw(ConfigError, "not RLP");
      expect(() => decodeQbftExtraData(encodeRlp(["0x00", [], [], "0x", []]))).to.throw(ConfigError, "vanity is not 32 bytes");
      expect(() => decodeQbftExtraData(encodeRlp([`0x${"00".repeat(32)}`, ["0x12"], [], "0x", []]))).to.throw(
        ConfigError,
        "20-byte addresses",
      );
      expect(() => decodeQbftExtraData(encodeRlp([`0x${"00".repeat(32)}`, []]))).to.throw(ConfigError, "list of 5 items");
    });
  });

  describe("lib/besu genesis and keys", function () {
    const base = {
      chainId: 2026,
      validators: [Wallet.createRandom().address],
      gasLimit: 500_000_000n,
      ...QBFT_DEFAULTS,
      accounts: [DEV_DEPLOYER],
    };

    it("refuses a request timeout not longer than the block period, and bad numbers", function () {
      expect(() => qbftGenesis({ ...base, requestTimeoutSeconds: 2 })).to.throw(InputError, "must be longer than the block period");
      expect(() => qbftGenesis({ ...base, chainId: 0 })).to.throw(InputError, "chain id");
      expect(() => qbftGenesis({ ...base, gasLimit: 10n })).to.throw(InputError, "block gas limit");
    });

    it("makes random keys by default and the same keys from the same dev seed", function () {
      const options = { ...base, validators: 4 };
      const a = buildBesuNetwork(options);
      const b = buildBesuNetwork(options);
      expect(a.nodes.map((n) => n.address)).to.not.deep.equal(b.nodes.map((n) => n.address));
      const d1 = buildBesuNetwork({ ...options, devSeed: "x" });
      const d2 = buildBesuNetwork({ ...options, devSeed: "x" });
      expect(d1.files).to.deep.equal(d2.files);
      expect(new Set(a.nodes.map((n) => n.address)).size).to.equal(5);
    });

    it("never overwrites node keys unless forced", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-besu-"));
      try {
        const network = buildBesuNetwork({ ...base, validators: 1 });
        writeBesuNetwork(dir, network);
        const key = path.join(dir, "keys", "validator1", "key");
        expect(fs.statSync(key).mode & 0o777).to.equal(0o600);
        expect(() => writeBesuNetwork(dir, buildBesuNetwork({ ...base, validators: 1 }))).to.throw(ConfigError, "never overwritten");
        expect(read(key)).to.equal(network.files.find((f) => f.path === "keys/validator1/key")!.content);
        writeBesuNetwork(dir, buildBesuNetwork({ ...base, validators: 1 }), { force: true });
        expect(read(key)).to.not.equal(network.files.find((f) => f.path === "keys/validator1/key")!.content);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("networks/besu/dev and the besu:genesis task", function () {
    let out: string;

    before(async function () {
      out = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-besu-dev-"));
      const quiet = process.env.ROAMLEDGER_QUIET;
      process.env.ROAMLEDGER_QUIET = "1";
      try {
        await hre.run("besu:genesis", { out, devSeed: DEV_SEED, validators: 4, accounts: DEV_DEPLOYER });
      } finally {
        if (quiet === undefined) delete process.env.ROAMLEDGER_QUIET;
        else process.env.ROAMLEDGER_QUIET = quiet;
      }
    });

    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("the committed example is exactly what the task writes from the documented dev seed", function () {
      if (process.env.ROAMLEDGER_BESU_CHAIN_ID) this.skip(); // the example is for the default chain id
      if (process.env.SOLIDITY_COVERAGE) this.skip(); // coverage raises the hardhat network's block gas limit
      for (const file of kitFiles(networkLayout(4).map((n) => n.name)).filter((f) => !f.startsWith("keys/"))) {
        expect(read(path.join(out, file)), file).to.equal(read(path.join(DEV, file)));
      }
      expect(devNodes().nodes.map((n) => n.name)).to.deep.equal(networkLayout(4).map((n) => n.name));
      // The private keys are derived again, never committed.
      expect(fs.existsSync(path.join(DEV, "keys"))).to.equal(false);
      expect(fs.statSync(path.join(out, "keys", "validator1", "key")).mode & 0o777).to.equal(0o600);
      expect(JSON.parse(read(path.join(out, "nodes.json"))).warning).to.match(/THROW-AWAY/);
    });

    it("its extraData names exactly the validator nodes, no vote, round 0, no seals", function () {
      const validators = devNodes()
        .nodes.filter((n) => n.role === "validator")
        .map((n) => n.address);
      const decoded = decodeQbftExtraData(devGenesis().extraData);
      expect(decoded.validators).to.have.length(4);
      expect(decoded.validators).to.have.members(validators);
      expect(decoded.validators.map((v) => v.toLowerCase())).to.deep.equal(validators.map((v) => v.toLowerCase()).sort());
      expect(decoded).to.deep.include({ vote: null, round: 0, seals: [] });
      // Node addresses are the keys' addresses (what Besu derives from --node-private-key-file).
      for (const n of devNodes().nodes) {
        const key = read(path.join(out, "keys", n.name, "key")).trim();
        expect(new Wallet(key).address, n.name).to.equal(n.address);
        expect(n.enode).to.equal(
          `enode://${read(path.join(out, "keys", n.name, "key.pub"))
            .trim()
            .slice(2)}@${n.ip}:30303`,
        );
      }
    });

    it("each node's first allowlists hold every node and the deployer; the validators boot from the bootnode", function () {
      const nodes = devNodes().nodes;
      const bootnode = nodes.find((n) => n.role === "bootnode")!;
      for (const n of nodes) {
        const allow = devPermissions(n.name);
        expect(strings(allow["nodes-allowlist"]), n.name).to.deep.equal(nodes.map((x) => x.enode));
        expect(strings(allow["accounts-allowlist"]), n.name).to.deep.equal([DEV_DEPLOYER.toLowerCase()]);
        const config = devToml(n.name);
        expect(config["p2p-host"], n.name).to.equal(n.ip);
        if (n.role === "validator") expect(strings(config.bootnodes), n.name).to.deep.equal([bootnode.enode]);
        else expect(config, n.name).to.not.have.property("bootnodes");
      }
    });

    it("refuses a network no account may transact on, and a bad account, naming --accounts", async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-besu-"));
      try {
        await expect(hre.run("besu:genesis", { out: dir, accounts: " , " })).to.be.rejectedWith(/no account may transact/);
        await expect(hre.run("besu:genesis", { out: dir, accounts: "0x1234" })).to.be.rejectedWith(/"0x1234" is not an account address/);
        expect(fs.readdirSync(dir)).to.deep.equal([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("the genesis agrees with config/base.ts", function () {
    it("chain id: the besu network's (ROAMLEDGER_BESU_CHAIN_ID, default 2026)", function () {
      if (process.env.ROAMLEDGER_BESU_CHAIN_ID) this.skip();
      expect(besuNetwork().chainId).to.equal(2026);
      expect(devGenesis().config.chainId).to.equal(besuNetwork().chainId);
      expect(devNodes().chainId).to.equal(besuNetwork().chainId);
    });

    it("hardfork: every fork up to Shanghai from genesis, nothing later; contracts compiled for shanghai", function () {
      const config = devGenesis().config as Record<string, unknown>;
      for (const fork of FORK_BLOCKS) expect(config[fork], fork).to.equal(0);
      expect(config.shanghaiTime).to.equal(0);
      for (const later of [...FORKS_AFTER_SHANGHAI, "terminalTotalDifficulty"]) expect(config, later).to.not.have.property(later);
      expect(config.qbft).to.deep.equal({
        blockperiodseconds: QBFT_DEFAULTS.blockPeriodSeconds,
        epochlength: QBFT_DEFAULTS.epochLength,
        requesttimeoutseconds: QBFT_DEFAULTS.requestTimeoutSeconds,
      });
      expect(hre.config.networks.hardhat.hardfork).to.equal("shanghai");
      for (const compiler of hre.config.solidity.compilers) expect(compiler.settings.evmVersion).to.equal("shanghai");
    });

    it("gas price 0: zeroBaseFee, min-gas-price 0 on the nodes, gasPrice 0 in the besu network", function () {
      expect(devGenesis().config.zeroBaseFee).to.equal(true);
      for (const n of devNodes().nodes) {
        const toml = devToml(n.name);
        expect(toml["min-gas-price"], n.name).to.equal(0);
        expect(toml["tx-pool-min-gas-price"], n.name).to.equal(0);
      }
      expect(besuNetwork().gasPrice).to.equal(0);
      expect(hre.config.networks.hardhat.gasPrice).to.equal(0);
      expect(hre.config.networks.hardhat.initialBaseFeePerGas).to.equal(0);
    });

    it("gas is estimated per transaction on localhost and besu, never a fixed 16,777,216", function () {
      // hardhat-ethers fixes every transaction's gas at 2^24 on `localhost` when the node answers
      // hardhat_metadata (anvil does) and the user config leaves `gas` unset: registrations of 500
      // devices failed out of gas against anvil until localhost said "auto" explicitly.
      expect(hre.userConfig.networks?.localhost?.gas).to.equal("auto");
      expect(hre.config.networks.localhost.gas).to.equal("auto");
      expect(besuNetwork().gas).to.equal("auto");
    });

    it("block gas limit: hardhat's blockGasLimit, above any gas the besu network would set", function () {
      if (process.env.SOLIDITY_COVERAGE) this.skip(); // coverage raises the hardhat network's block gas limit
      const gasLimit = BigInt(devGenesis().gasLimit);
      expect(gasLimit).to.equal(BigInt(hre.config.networks.hardhat.blockGasLimit));
      const gas = besuNetwork().gas;
      // "auto": estimated per transaction (a fixed value near the limit would allow one per block).
      if (gas !== "auto") expect(BigInt(gas)).to.be.at.most(gasLimit);
    });

    it("block gas limit: fits a device:register batch of the default size, under the EIP-7825 cap", async function () {
      const c = await loadFixture(deployConsortium);
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
      await c.devices
        .connect(c.de)
        .definePolicy(meterPolicy(PLMN.DE, { services: 0b111, missionCritical: true, allowedNetworks: [PLMN.BR, PLMN.US] }));
      // The task sends DEFAULT_REGISTER_BATCH unless --batch-size says otherwise (at most batchLimits().register,
      // whose gas test/unit/misbehave/devices.test.ts measures).
      const max = DEFAULT_REGISTER_BATCH;
      const regs = Array.from({ length: max }, (_, i) => ({
        localId: localId(50_000 + i),
        deviceClass: i % 4,
        maker: i % 2 ? PLMN.MAKER : "0x000000",
        policyId: 1 + (i % 2),
      }));
      const tx = await c.devices.connect(c.de).registerDevices(regs);
      const receipt = (await tx.wait())!;
      const bytes = hre.ethers.getBytes(tx.data).length;
      console.log(`      register ${max} devices: ${receipt.gasUsed} gas, ${bytes.toLocaleString("en-US")} bytes of calldata`);
      expect(receipt.gasUsed).to.be.lessThan(BigInt(devGenesis().gasLimit));
      expect(receipt.gasUsed).to.be.lessThan(16_777_216n);
      // Room for the rest of the block: a full batch takes less than half of it.
      expect(receipt.gasUsed * 2n).to.be.lessThan(BigInt(devGenesis().gasLimit));
    });
  });

  describe("node configuration and docker-compose.yml", function () {
    const compose = () => yaml.load(read(path.join(KIT, "docker-compose.yml"))) as Compose;

    it("runs the bootnode and the four validators, each with its own config, allowlists, key and data", function () {
      const { services } = compose();
      const nodes = devNodes().nodes;
      expect(Object.keys(services)).to.have.members(nodes.map((n) => n.name));
      for (const n of nodes) {
        const s = services[n.name];
        const config = devToml(n.name);
        expect(config["genesis-file"]).to.equal(NODE_PATHS.genesis);
        expect(config["permissions-nodes-config-file"]).to.equal(NODE_PATHS.permissions);
        expect(config["permissions-accounts-config-file"]).to.equal(NODE_PATHS.permissions);
        expect(strings(s.volumes), n.name).to.have.members([
          `./generated/config/${n.name}.toml:${NODE_PATHS.config}:ro`,
          `./generated/genesis.json:${NODE_PATHS.genesis}:ro`,
          // Writable: Besu rewrites the file when the PERM API changes an allowlist.
          `./generated/permissions/${n.name}:${path.posix.dirname(NODE_PATHS.permissions)}`,
          `./generated/keys/${n.name}:${path.posix.dirname(String(config["node-private-key-file"]))}:ro`,
          `./generated/data/${n.name}:${config["data-path"]}`,
        ]);
        expect(s.command).to.deep.equal([`--config-file=${NODE_PATHS.config}`]);
        expect(s.networks?.roamledger.ipv4_address, n.name).to.equal(n.ip);
        expect(s.ports, n.name).to.have.length(1);
        for (const port of s.ports ?? []) expect(port, `${n.name} publishes RPC on loopback only`).to.match(/^127\.0\.0\.1:\d+:8545$/);
      }
      expect(compose().networks?.roamledger.ipam.config[0].subnet).to.equal(BESU_SUBNET);
    });

    it("names the Besu release the kit was written for, on every node; no on-chain permissioning phase", function () {
      const image = compose()["x-besu"]?.image;
      expect(image).to.equal(BESU_IMAGE);
      for (const s of Object.values(compose().services)) expect(s.image).to.equal(image);
      expect(fs.existsSync(path.join(KIT, "docker-compose.permissioning.yml"))).to.equal(false);
      expect(read(path.join(KIT, "docker-compose.yml"))).to.not.match(/CONTRACT|PRIVACY/);
    });

    it("serves each role's APIs and no more, on loopback; the container binds its interface, published on the host's loopback", function () {
      for (const n of devNodes().nodes) {
        const config = devToml(n.name);
        expect(strings(config["rpc-http-api"]), n.name).to.deep.equal([...RPC_APIS[n.role as keyof typeof RPC_APIS]]);
        expect(config["rpc-http-host"], n.name).to.equal("127.0.0.1");
        expect(strings(config["host-allowlist"])).to.not.include("*");
        expect(config["revert-reason-enabled"]).to.equal(true);
      }
      expect(compose()["x-besu"]?.environment).to.deep.equal({ BESU_RPC_HTTP_HOST: "0.0.0.0" });
    });
  });

  describe("ignition/parameters/besu.json", function () {
    const file = path.join(ROOT, "ignition", "parameters", "besu.json");
    const keystore = () => new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-ks-")));
    const deployer = Wallet.createRandom().address;

    it("is refused until every placeholder is replaced, each reported with its line", function () {
      let err: unknown;
      try {
        readDeployParameters(file, [deployer], keystore());
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InputErrors);
      const problems = (err as InputErrors).errors;
      expect(problems).to.have.length(8); // 4 operators, 4 encryption keys
      for (const p of problems) {
        expect(p.location?.file).to.equal(file);
        expect(p.location?.line).to.be.a("number");
        expect(p.shortMessage).to.match(/REPLACE|encryption/i);
      }
      expect((err as BaseError).message).to.contain("nothing was sent to the chain");
    });

    it("is accepted with real operators and keys, the deployer as infrastructure account", function () {
      const raw = JSON.parse(read(file)) as { members: { operators: string[]; encryptionKey: string }[] };
      for (const m of raw.members) {
        m.operators = [Wallet.createRandom().address];
        m.encryptionKey = Wallet.createRandom().signingKey.compressedPublicKey;
      }
      const filled = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-params-")), "besu.json");
      fs.writeFileSync(filled, JSON.stringify(raw, null, 2));
      const params = readDeployParameters(filled, [deployer], keystore());
      expect(params.CarrierRegistry.infraAccounts).to.deep.equal([deployer]);
      expect(params.CarrierRegistry.bootstrapMembers).to.have.length(4);
    });
  });
});
