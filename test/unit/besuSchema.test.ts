/**
 * The Besu files of the kit against what Besu's documentation requires (lib/besu/schema.ts): the committed
 * example and what `besu:genesis` writes parse (TOML and JSON) and pass; each rule refuses what it should.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { parseFlatToml } from "../helpers/toml";
import { captured } from "../helpers/tasks";
import { networkLayout } from "../../lib/besu/network";
import { checkKit } from "../../lib/besu/network";
import { checkNodeConfig, checkPermissionsConfig, checkQbftGenesis, KNOWN_OPTIONS, REMOVED_OPTIONS } from "../../lib/besu/schema";

const DEV = path.join(hre.config.paths.root, "networks", "besu", "dev");
const DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const read = (file: string) => fs.readFileSync(file, "utf8");
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** The problems of a variant of `base` changed by `edit`. */
function problemsOf<T>(base: T, check: (x: T) => string[], edit: (x: T) => void): string[] {
  const copy = clone(base);
  edit(copy);
  return check(copy);
}

describe("lib/besu/schema: the kit's files as Besu's documentation requires them", function () {
  const nodes = networkLayout(4).map((n) => n.name);
  let out: string;

  before(async function () {
    out = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-besu-schema-"));
    const printed = await captured(() => hre.run("besu:genesis", { out, accounts: DEPLOYER, validators: 4 }));
    expect(printed).to.contain("Besu 26.9.0");
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  for (const [label, dir] of [
    ["the committed example (networks/besu/dev)", () => DEV],
    ["what besu:genesis writes", () => out],
  ] as const) {
    it(`${label}: the genesis, each node's TOML and allowlists parse and pass`, function () {
      expect(checkQbftGenesis(JSON.parse(read(path.join(dir(), "genesis.json"))))).to.deep.equal([]);
      for (const n of nodes) {
        const config = parseFlatToml(read(path.join(dir(), "config", `${n}.toml`)), `${n}.toml`);
        expect(checkNodeConfig(config), n).to.deep.equal([]);
        const perms = parseFlatToml(read(path.join(dir(), "permissions", n, "permissions_config.toml")), n);
        expect(checkPermissionsConfig(perms), n).to.deep.equal([]);
      }
    });
  }

  describe("the genesis", function () {
    const genesis = () => JSON.parse(read(path.join(DEV, "genesis.json")));
    const bad = (edit: (g: { config: Record<string, unknown> } & Record<string, unknown>) => void) =>
      problemsOf(genesis(), checkQbftGenesis, edit).join("\n");

    it("requires the three QBFT timings and knows no other QBFT field than Besu documents", function () {
      expect(bad((g) => delete (g.config.qbft as Record<string, unknown>).epochlength)).to.contain("config.qbft.epochlength must be");
      expect(bad((g) => ((g.config.qbft as Record<string, unknown>).blockperiod = 2))).to.contain(
        "config.qbft.blockperiod is not a QBFT option",
      );
      expect(bad((g) => ((g.config.qbft as Record<string, unknown>).requesttimeoutseconds = 2))).to.contain(
        "must be longer than blockperiodseconds",
      );
      expect(bad((g) => delete g.config.qbft)).to.contain("config.qbft is missing");
      expect(bad((g) => (g.config.ibft2 = {}))).to.contain("one consensus protocol only");
    });

    it("requires zeroBaseFee, every block fork at 0, Shanghai, forks by time in order, no misspelt fork", function () {
      expect(bad((g) => (g.config.zeroBaseFee = false))).to.contain("zeroBaseFee must be true");
      expect(bad((g) => (g.config.berlinBlock = 5))).to.contain("config.berlinBlock must be 0");
      expect(bad((g) => delete g.config.shanghaiTime)).to.contain("config.shanghaiTime is missing");
      expect(bad((g) => (g.config.shanghaiTIme = 0))).to.contain("config.shanghaiTIme is not a genesis option");
      expect(bad((g) => Object.assign(g.config, { shanghaiTime: 100, cancunTime: 50 }))).to.contain("config.cancunTime comes before");
      expect(bad((g) => (g.config.pragueTime = 1_900_000_000))).to.equal("");
    });

    it("requires a QBFT extraData with validators, no vote, round 0, no seals; BFT's mixHash; a gas limit over the cap", function () {
      expect(bad((g) => (g.extraData = "0x1234"))).to.contain("not a QBFT extraData");
      expect(bad((g) => (g.mixHash = `0x${"00".repeat(32)}`))).to.contain("mixHash must be");
      expect(bad((g) => (g.gasLimit = "0x1000000"))).to.equal("");
      expect(bad((g) => (g.gasLimit = "0xffffff"))).to.contain("gasLimit is below 16,777,216");
      expect(bad((g) => (g.gasLimit = 30_000_000))).to.contain("gasLimit must be a 0x-prefixed hex quantity");
    });
  });

  describe("a node's TOML", function () {
    const config = () => parseFlatToml(read(path.join(DEV, "config", "validator1.toml")), "validator1.toml");
    const bad = (edit: (c: Record<string, unknown>) => void) => problemsOf(config(), checkNodeConfig, edit).join("\n");

    it("refuses the options Besu removed: on-chain permissioning, privacy (Tessera), host-whitelist", function () {
      expect(bad((c) => (c["permissions-accounts-contract-enabled"] = true))).to.contain(
        "on-chain permissioning was removed in Besu 25.6.0",
      );
      expect(bad((c) => (c["permissions-nodes-contract-address"] = "0x00"))).to.contain("on-chain permissioning was removed");
      expect(bad((c) => (c["privacy-enabled"] = true))).to.contain("private transactions (Tessera) were removed");
      expect(bad((c) => (c["host-whitelist"] = ["*"]))).to.contain("renamed host-allowlist");
      expect(bad((c) => (c["rpc-http-api"] = ["ETH", "PRIV"]))).to.contain("PRIV was removed with private transactions");
      for (const removed of Object.keys(REMOVED_OPTIONS)) expect(KNOWN_OPTIONS).to.not.have.property(removed);
    });

    it("refuses unknown and mistyped options", function () {
      expect(bad((c) => (c["rpc-http-apis"] = ["ETH"]))).to.contain("rpc-http-apis is not a Besu 26.9.0 option");
      expect(bad((c) => (c["p2p-port"] = "30303"))).to.contain("p2p-port must be a int");
      expect(bad((c) => (c["rpc-http-api"] = ["ETH", "MAGIC"]))).to.contain("MAGIC is not a JSON-RPC API group");
    });

    it("serves PERM (and ADMIN, DEBUG) on loopback only", function () {
      expect(bad((c) => (c["rpc-http-host"] = "0.0.0.0"))).to.contain("serves PERM on 0.0.0.0: only on the loopback interface");
      expect(bad((c) => Object.assign(c, { "rpc-http-host": "0.0.0.0", "rpc-http-api": ["ETH", "NET", "WEB3"] }))).to.equal("");
      expect(bad((c) => Object.assign(c, { "rpc-ws-enabled": true, "rpc-ws-host": "10.0.0.1", "rpc-ws-api": ["ADMIN"] }))).to.contain(
        "rpc-ws-api serves ADMIN on 10.0.0.1",
      );
    });

    it("requires both allowlist files on, a gas price of 0, the genesis, key and data", function () {
      expect(bad((c) => (c["permissions-accounts-config-file-enabled"] = false))).to.contain(
        "permissions-accounts-config-file-enabled must be true",
      );
      expect(bad((c) => delete c["permissions-nodes-config-file"])).to.contain("permissions-nodes-config-file must name");
      expect(bad((c) => (c["min-gas-price"] = 1000))).to.contain("min-gas-price must be 0");
      expect(bad((c) => delete c["genesis-file"])).to.contain("genesis-file is missing");
    });
  });

  it("permissions_config.toml: only the two allowlists, of addresses and enode URLs", function () {
    const perms = parseFlatToml(read(path.join(DEV, "permissions", "bootnode", "permissions_config.toml")), "perms");
    const bad = (edit: (c: Record<string, unknown>) => void) => problemsOf(perms, checkPermissionsConfig, edit).join("\n");
    expect(bad((c) => (c["accounts-allowlist"] = ["0x12"]))).to.contain("0x12 is not an address");
    expect(bad((c) => (c["nodes-allowlist"] = ["enode://abc@1.2.3.4:30303"]))).to.contain("is not an enode URL");
    expect(bad((c) => (c["nodes-whitelist"] = []))).to.contain("nodes-whitelist is not a permissions_config.toml key");
    expect(bad((c) => delete c["accounts-allowlist"])).to.contain("accounts-allowlist is missing");
  });

  it("besu:genesis checks every file before writing one: a generator bug stops it", function () {
    const genesis = JSON.parse(read(path.join(DEV, "genesis.json")));
    genesis.config.zeroBaseFee = false;
    expect(() => checkKit([{ path: "genesis.json", content: JSON.stringify(genesis), secret: false }])).to.throw(
      /genesis.json: config.zeroBaseFee must be true/,
    );
    const toml = `${read(path.join(DEV, "config", "bootnode.toml"))}permissions-nodes-contract-enabled=true\n`;
    expect(() => checkKit([{ path: "config/bootnode.toml", content: toml, secret: false }])).to.throw(
      /config\/bootnode.toml: permissions-nodes-contract-enabled/,
    );
  });
});
