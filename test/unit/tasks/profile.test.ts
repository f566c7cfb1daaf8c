/**
 * Carrier profiles (issue 16, "who am I"): roamledger.json + ROAMLEDGER_PROFILE choose the account and the key
 * store of every command; explicit flags win; a bad file is reported with its line; a member command run as
 * account 0 says how to choose; printed hints name the partner's profile or account and paste and run; dev:mint
 * on development chains only; per-carrier key stores for the deployment parameters.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { agreeDeBr, deployConsortium, PLMN, type Consortium } from "../../helpers/fixtures";
import { captured, failureOf, FROM, useDeploymentForTasks } from "../../helpers/tasks";
import { Keystore } from "../../../lib/keys/keystore";
import { readDeployParameters } from "../../../lib/consortium/parameters";
import { InputErrors } from "../../../lib/core/errors";
import { commandLine } from "../../../tasks/cli/errors";
import { profileNetwork } from "../../../config/profileNetwork";
import { deploymentFile, loadDeployment, loadDevToken } from "../../../lib/chain/deployment";

const RLST = 1_000_000n;

/** Runs a printed `[ROAMLEDGER_PROFILE=x] npx hardhat task --flag value ...` line in this process, as a shell would. */
async function runPrinted(line: string): Promise<void> {
  const m = /^(?:ROAMLEDGER_PROFILE=(\S+) )?npx hardhat (\S+)((?: --\S+ \S+)*)$/.exec(line.trim());
  if (!m) throw new Error(`not a command line: ${line}`);
  const args: Record<string, string> = {};
  for (const [, flag, value] of m[3].matchAll(/--(\S+) (\S+)/g)) {
    if (flag === "network") {
      expect(value).to.equal(hre.network.name);
      continue;
    }
    args[flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  const saved = process.env.ROAMLEDGER_PROFILE;
  if (m[1]) process.env.ROAMLEDGER_PROFILE = m[1];
  try {
    await hre.run(m[2], args);
  } finally {
    if (saved === undefined) delete process.env.ROAMLEDGER_PROFILE;
    else process.env.ROAMLEDGER_PROFILE = saved;
  }
}

describe("carrier profiles, dev:mint, per-carrier key stores", function () {
  let c: Consortium;
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let token: string;
  let file: string;

  const writeProfiles = (profiles: Record<string, unknown>) => fs.writeFileSync(file, JSON.stringify({ profiles }, null, 2));
  const de = () => ({ plmn: "262-01", from: "1", keystore: path.join(env.dir, "de") });
  const br = () => ({ plmn: "724-05", from: "3", keystore: path.join(env.dir, "br") });
  const deposit = async (plmn: string) => c.escrow.deposits(plmn, token);

  beforeEach(async function () {
    c = await loadFixture(deployConsortium);
    env = await useDeploymentForTasks(c);
    file = process.env.ROAMLEDGER_CONFIG as string;
    token = await c.token.getAddress();
    // The deployment record of `deploy --dev-token`: the development token beside the contracts.
    const record = process.env.ROAMLEDGER_DEPLOYMENT as string;
    const deployed = JSON.parse(fs.readFileSync(record, "utf8"));
    fs.writeFileSync(record, JSON.stringify({ ...deployed, "SettlementToken#SettlementToken": token }));
  });
  afterEach(() => {
    delete process.env.ROAMLEDGER_PROFILE;
    env.cleanup();
  });

  it("a profile makes --from unnecessary: dev:mint and escrow:deposit act as the profile's carrier", async function () {
    writeProfiles({ de: de(), br: br() });
    process.env.ROAMLEDGER_PROFILE = "de";
    await hre.run("dev:mint", { amount: "100" });
    expect(await c.token.balanceOf(c.de.address)).to.equal(100n * RLST);
    await hre.run("escrow:deposit", { amount: "40", token });
    expect(await deposit(PLMN.DE)).to.equal(40n * RLST);
    expect(await deposit(PLMN.BR)).to.equal(0n);
  });

  it("the only profile of the file is the default; an explicit --from wins over it", async function () {
    writeProfiles({ de: de() });
    await hre.run("dev:mint", { amount: "10", to: "724-05" });
    expect(await c.token.balanceOf(c.br.address)).to.equal(10n * RLST);
    await hre.run("escrow:deposit", { amount: "4", token, from: FROM.br });
    expect(await deposit(PLMN.BR)).to.equal(4n * RLST);
    expect(await deposit(PLMN.DE)).to.equal(0n);
  });

  it("profile:show names the profile, its source, the account's member and permissions, and the key store", async function () {
    writeProfiles({ de: de(), br: br() });
    process.env.ROAMLEDGER_PROFILE = "br";
    const text = await captured(() => hre.run("profile:show", {}));
    expect(text).to.contain("Profile:  br (ROAMLEDGER_PROFILE=br)");
    expect(text).to.contain(`Account:  ${c.br.address} (the profile's "from": 3)`);
    expect(text).to.match(/Member: {3}724-05 .*carrier/);
    expect(text).to.match(/permissions: .*admin/);
    expect(text).to.contain(`Key store: ${path.join(env.dir, "br")} (the profile's)`);
  });

  it("profile:add writes the file atomically, keeping the other profiles", async function () {
    writeProfiles({ de: de() });
    await hre.run("profile:add", { name: "us", plmn: "310-410", from: "2", profileNetwork: "localhost" });
    const saved = JSON.parse(fs.readFileSync(file, "utf8")).profiles;
    expect(Object.keys(saved)).to.deep.equal(["de", "us"]);
    // Outside the profiles file's folder a key store is kept absolute; inside it, relative to the file.
    expect(saved.us).to.deep.equal({ plmn: "310-410", from: "2", keystore: path.resolve(".roamledger", "310-410"), network: "localhost" });
    await hre.run("profile:add", { name: "us", plmn: "310-410", from: "2", keystore: path.join(env.dir, "us") });
    expect(JSON.parse(fs.readFileSync(file, "utf8")).profiles.us).to.deep.equal({ plmn: "310-410", from: "2", keystore: "us" });
    const bad = await failureOf(hre.run("profile:add", { name: "x", plmn: "310-410", from: "2", profileNetwork: "nowhere" }));
    expect(bad).to.contain("--profile-network nowhere is not a network of the Hardhat config (config/base.ts)");
  });

  it("the active profile's network is Hardhat's default network (config/base.ts), never failing the config", function () {
    const root = hre.config.paths.root;
    writeProfiles({ de: { ...de(), network: "localhost" }, br: br() });
    expect(profileNetwork(root)).to.equal(undefined); // two profiles, none chosen
    process.env.ROAMLEDGER_PROFILE = "de";
    expect(profileNetwork(root)).to.equal("localhost");
    process.env.ROAMLEDGER_PROFILE = "br";
    expect(profileNetwork(root)).to.equal(undefined);
    fs.writeFileSync(file, "{ not json");
    expect(profileNetwork(root)).to.equal(undefined); // reported when a task uses the profile
  });

  it("a bad profiles file is reported with its file, line and field", async function () {
    fs.writeFileSync(file, ['{ "profiles": {', '  "de": {', '    "plmn": "2620",', '    "from": "me"', "  }", "} }"].join("\n"));
    process.env.ROAMLEDGER_PROFILE = "de";
    const msg = await failureOf(hre.run("escrow:deposit", { amount: "1", token }));
    expect(msg).to.match(/roamledger\.json:3 \(profiles\.de\.plmn\)/);
    expect(msg).to.match(/roamledger\.json:4 \(profiles\.de\.from\): from must be an account index/);
    process.env.ROAMLEDGER_PROFILE = "nobody";
    writeProfiles({ de: de() });
    expect(await failureOf(hre.run("escrow:deposit", { amount: "1", token }))).to.contain('has no profile "nobody"');
  });

  it("without a profile, a member command run as account 0 says how to choose the account", async function () {
    const msg = await failureOf(hre.run("escrow:deposit", { amount: "1", token }));
    expect(msg).to.contain("set ROAMLEDGER_PROFILE or pass --from: account 0");
    expect(msg).to.contain("is not an operator of any member");
  });

  it("a profile whose account operates for another member is refused before anything is sent", async function () {
    writeProfiles({ br: { ...br(), from: "1" } });
    const msg = await failureOf(hre.run("escrow:deposit", { amount: "1", token }));
    expect(msg).to.contain(`account ${c.de.address} is not an operator of 724-05`);
    expect(msg).to.contain("It operates for 262-01.");
  });

  describe("hints that paste and run", function () {
    async function registerOwnKeys(stores: Record<string, string | undefined>) {
      for (const [plmn, signer] of [
        ["262-01", c.de],
        ["724-05", c.br],
      ] as const) {
        const { publicKey } = new Keystore(stores[plmn]).ensureEncryptionKey(plmn);
        await c.carriers.connect(signer).rotateEncryptionKey(publicKey);
      }
      await agreeDeBr(c);
    }

    it("keys:share names the partner's profile; the printed keys:receive runs as the partner", async function () {
      writeProfiles({ de: de(), br: br() });
      await registerOwnKeys({ "262-01": de().keystore, "724-05": br().keystore });
      process.env.ROAMLEDGER_PROFILE = "de";
      const init = await captured(() => hre.run("keys:init", { plmn: "262-01" }));
      expect(init).to.contain("registered on hardhat: nothing to give");
      const text = await captured(() => hre.run("keys:share", { partner: "724-05" }));
      const hint = text.split("\n").find((l) => l.startsWith("724-05 stores it with: ")) ?? "";
      const line = hint.replace("724-05 stores it with: ", "");
      expect(line).to.equal("ROAMLEDGER_PROFILE=br npx hardhat keys:receive --home 262-01 --network hardhat");
      await runPrinted(line);
      const ks = new Keystore(br().keystore);
      expect(Buffer.from(ks.partnerImsiKey("724-05", "262-01"))).to.deep.equal(Buffer.from(new Keystore(de().keystore).imsiKey("262-01")));
    });

    it("without profiles, the hint names the partner's account (--from) and runs as printed", async function () {
      await registerOwnKeys({});
      await hre.run("keys:init", { plmn: "262-01" });
      const text = await captured(() => hre.run("keys:share", { partner: "724-05", from: FROM.de }));
      const line = (text.split("\n").find((l) => l.startsWith("724-05 stores it with: ")) ?? "").replace("724-05 stores it with: ", "");
      expect(line).to.equal("npx hardhat keys:receive --home 262-01 --from 3");
      await runPrinted(line);
      expect(new Keystore().hasPartnerImsiKey("724-05", "262-01")).to.equal(true);
    });

    it("a next step repeats --network off the default network and the caller's explicit --from", function () {
      const ctx = { network: "localhost", defaultNetwork: "hardhat", from: "1", takes: () => true };
      expect(commandLine({ operation: "escrow:deposit", args: { amount: "5" }, caller: true }, ctx)).to.equal(
        "npx hardhat escrow:deposit --amount 5 --network localhost --from 1",
      );
      // A step whose runner is not known (the partner's, perhaps) does not get the caller's account.
      expect(commandLine({ operation: "invoice:cosign", args: { partner: "724-05" } }, ctx)).to.equal(
        "npx hardhat invoice:cosign --partner 724-05 --network localhost",
      );
      const noFrom = { ...ctx, takes: (_: string, p: string) => p !== "from" };
      expect(commandLine({ operation: "keys:init", args: { plmn: "262-01" } }, noFrom)).to.equal(
        "npx hardhat keys:init --plmn 262-01 --network localhost",
      );
    });
  });

  describe("dev:mint", function () {
    it("is refused on a chain that is not a development chain", async function () {
      const provider = hre.ethers.provider;
      const getNetwork = provider.getNetwork.bind(provider);
      const name = hre.network.name;
      // The in-process network, seen as a consortium chain (chain id 2026, network besu).
      Object.defineProperty(hre.network, "name", { value: "besu", configurable: true, writable: true });
      provider.getNetwork = async () => ({ ...(await getNetwork()), chainId: 2026n }) as Awaited<ReturnType<typeof getNetwork>>;
      try {
        const msg = await failureOf(hre.run("dev:mint", { amount: "1", from: FROM.de }));
        expect(msg).to.contain("dev:mint runs on development chains only; network besu is chain 2026");
      } finally {
        provider.getNetwork = getNetwork;
        Object.defineProperty(hre.network, "name", { value: name, configurable: true, writable: true });
      }
      expect(await c.token.balanceOf(c.de.address)).to.equal(0n);
    });

    it("escrow:deposit's 'holds too little' error names the mint on a development chain", async function () {
      const msg = await failureOf(hre.run("escrow:deposit", { amount: "7", token, from: FROM.de }));
      expect(msg).to.contain("holds 0 RLST");
      expect(msg).to.contain(`npx hardhat dev:mint --amount 7 --token ${token} --from 1`);
    });
  });

  describe("ROAMLEDGER_IGNITION_DIR", function () {
    it("is where every task finds the deployment record, as deploy writes it there", async function () {
      const record = process.env.ROAMLEDGER_DEPLOYMENT as string;
      const ignition = path.join(env.dir, "ignition");
      const chainDir = path.join(ignition, "deployments", "chain-31337");
      fs.mkdirSync(chainDir, { recursive: true });
      fs.copyFileSync(record, path.join(chainDir, "deployed_addresses.json"));
      delete process.env.ROAMLEDGER_DEPLOYMENT;
      const saved = process.env.ROAMLEDGER_IGNITION_DIR;
      process.env.ROAMLEDGER_IGNITION_DIR = ignition;
      try {
        expect(deploymentFile(hre.config.paths.root, 31337)).to.equal(path.join(chainDir, "deployed_addresses.json"));
        expect(loadDeployment(hre.config.paths.root, 31337).carrierRegistry).to.equal(await c.carriers.getAddress());
        expect(loadDevToken(hre.config.paths.root, 31337)).to.equal(token);
        const text = await captured(() => hre.run("carrier:list", {}));
        expect(text).to.contain("262-01");
        process.env.ROAMLEDGER_IGNITION_DIR = path.join(env.dir, "elsewhere");
        expect(await failureOf(hre.run("carrier:list", {}))).to.contain(path.join(env.dir, "elsewhere", "deployments", "chain-31337"));
      } finally {
        if (saved === undefined) delete process.env.ROAMLEDGER_IGNITION_DIR;
        else process.env.ROAMLEDGER_IGNITION_DIR = saved;
        process.env.ROAMLEDGER_DEPLOYMENT = record;
      }
    });
  });

  describe("per-carrier key stores in the deployment parameters", function () {
    const params = (key: string) =>
      JSON.stringify(
        {
          members: [{ plmn: "262-01", name: "DE", roles: ["carrier", "governor"], operators: [1], encryptionKey: key }],
        },
        null,
        2,
      );

    it('reads "keystore:<folder>" from the carrier\'s own key store, never creating it', async function () {
      const accounts = (await hre.ethers.getSigners()).map((s) => s.address);
      const own = path.join(env.dir, "stores", "262-01");
      const p = path.join(env.dir, "params.json");
      fs.writeFileSync(p, params(`keystore:${own}`));
      const missing = await failureOf(Promise.resolve().then(() => readDeployParameters(p, accounts, new Keystore())));
      expect(missing).to.contain(`no encryption key of 262-01 in its key store ${own}`);
      expect(fs.existsSync(own)).to.equal(false);
      await hre.run("keys:init", { plmn: "262-01", keystore: own });
      const members = readDeployParameters(p, accounts, new Keystore()).CarrierRegistry.bootstrapMembers;
      expect(members[0].encryptionKey).to.equal(new Keystore(own).encryptionKey("262-01").publicKey);
    });

    it('refuses "dev-keystore" off development chains and the ambiguous "keystore", with the line', async function () {
      const accounts = (await hre.ethers.getSigners()).map((s) => s.address);
      const p = path.join(env.dir, "params.json");
      fs.writeFileSync(p, params("dev-keystore"));
      let caught: unknown;
      try {
        readDeployParameters(p, accounts, new Keystore(), { development: false });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(InputErrors);
      expect((caught as Error).message).to.match(/params\.json:13 \(encryptionKey\): "dev-keystore" .* development chains only/);
      expect(
        readDeployParameters(p, accounts, new Keystore(), { development: true }).CarrierRegistry.bootstrapMembers[0].encryptionKey,
      ).to.match(/^0x0[23]/);
      fs.writeFileSync(p, params("keystore"));
      expect(await failureOf(Promise.resolve().then(() => readDeployParameters(p, accounts, new Keystore())))).to.contain(
        '"keystore" no longer says whose key store',
      );
    });

    it("the shipped localhost parameters take each carrier's key from its own key store", function () {
      const shipped = JSON.parse(fs.readFileSync(path.join(hre.config.paths.root, "ignition", "parameters", "localhost.json"), "utf8"));
      for (const m of shipped.members) expect(m.encryptionKey).to.equal(`keystore:.roamledger/${m.plmn}`);
    });
  });
});
