import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, getBytes } from "ethers";
import { addressesOf, deployConsortium, PLMN, type Consortium } from "../../helpers/fixtures";
import { useDeploymentForTasks, FROM, captured, failureOf } from "../../helpers/tasks";
import { fixturePrivateKey } from "../../helpers/agreement";
import { isoTime, readAgreementTerms, type TermsStruct } from "../../../lib/agreements/terms";
import { openTerms, SEALED_TERMS_KIND, sealTerms, type PublicTerms } from "../../../lib/agreements/sealed";
import { agreementTerms, agreementTermsAt } from "../../../lib/agreements/fullTerms";
import { loadLocalTerms, localTermsPath } from "../../../lib/agreements/localTerms";
import { randomSalt, TERMS_TUPLE_TYPE, termsCommitment } from "../../../lib/crypto/commitment";
import { sealAbi, sealedLength } from "../../../lib/crypto/sealed";
import { pairwiseKey } from "../../../lib/crypto/pairwise";
import { CryptoError } from "../../../lib/core/errors";
import { Keystore } from "../../../lib/keys/keystore";
import { connectRoamLedger } from "../../../lib/chain/client";
import type { Hex } from "../../../lib/util/hex";

const DAY = 24 * 3600;
/** VersionStatus in IRoamingAgreements. */
const ACCEPTED = 2n;

/** Key stores of the three carriers, each in its own folder, as keys:init would have written them. */
function writeKeystores(dir: string): { de: string; br: string; us: string } {
  const roots = { de: path.join(dir, "keys-de"), br: path.join(dir, "keys-br"), us: path.join(dir, "keys-us") };
  const write = (root: string, plmn: string, seed: number) => {
    const file = new Keystore(root).encryptionKeyPath(plmn);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${fixturePrivateKey(seed)}\n`, { mode: 0o600 });
  };
  write(roots.de, "262-01", 1);
  write(roots.us, "310-410", 2);
  write(roots.br, "724-05", 3);
  return roots;
}

describe("tasks: agreement", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let c: Consortium;
  let token: string;
  let start: number;
  let keys: { de: string; br: string; us: string };

  /** Terms DE proposes to BR: one plan each way, valid `days` days from `from` (default: a day ahead). */
  function terms(overrides: Record<string, unknown> = {}, from = start, days = 365) {
    return {
      settlementToken: token,
      validFrom: isoTime(from),
      validUntil: isoTime(from + days * DAY),
      disputeWindowDays: 7,
      permanentRoaming: { days: 90, surchargePerDay: "0.05" },
      sla: {
        maxLatencyMs: 500,
        minThroughputKbps: 100,
        minAvailabilityPercent: 99.5,
        latencyCreditPercent: 1,
        throughputCreditPercent: 1,
        availabilityCreditPercent: 2,
      },
      rates: [
        {
          visited: "724-05",
          tariffClass: 1,
          perMb: "0.50",
          perSignallingEvent: "0.0001",
          perSms: "0.01",
          perVoiceMinute: "0.02",
          monthlyFeePerDevice: "0.05",
          tiers: [{ fromMb: 10000, discountPercent: 10 }],
        },
        {
          visited: "262-01",
          tariffClass: 1,
          perMb: "0.40",
          perSignallingEvent: "0",
          perSms: "0.01",
          perVoiceMinute: "0.02",
          monthlyFeePerDevice: "0",
        },
      ],
      ...overrides,
    };
  }

  /** Writes terms to `<name>` in the temp folder. */
  function write(content: object, name = "terms.json"): string {
    const file = path.join(env.dir, name);
    fs.writeFileSync(file, JSON.stringify(content, null, 2));
    return file;
  }

  /** DE proposes `content` to BR through the task. */
  async function propose(content: object = terms(), from: string = FROM.de) {
    await hre.run("agreement:propose", { partner: "724-05", terms: write(content), keystore: keys.de, from });
  }

  /** BR accepts DE's `version` through the task. */
  async function accept(version = 1, keystore = keys.br) {
    await hre.run("agreement:accept", { partner: "262-01", agreementVersion: version, keystore, from: FROM.br });
  }

  /** `agreement:show` of the DE-BR agreement as `as`, with the key store `keystore`. */
  async function show(keystore: string, as = "724-05", more: Record<string, unknown> = {}) {
    const partner = as === "724-05" ? "262-01" : "724-05";
    return captured(() => hre.run("agreement:show", { partner, as, keystore, ...more }));
  }

  beforeEach(async function () {
    c = await loadFixture(deployConsortium);
    env = await useDeploymentForTasks(c);
    keys = writeKeystores(env.dir);
    token = await c.token.getAddress();
    start = Math.ceil(((await time.latest()) + DAY) / DAY) * DAY; // a midnight at least a day ahead
  });

  afterEach(() => env.cleanup());

  /** A client of the deployment for `signer`. */
  async function clientOf(signer = c.br) {
    return connectRoamLedger(await addressesOf(c), signer);
  }

  /** The terms the task reads from `content` (DE's view, token with 6 decimals). */
  function parsed(content: object = terms()): TermsStruct {
    return readAgreementTerms(write(content, "parsed.json"), { self: PLMN.DE, partner: PLMN.BR, decimals: 6, now: BigInt(start - DAY) });
  }

  /** DE's sealing context and pair key with `counterparty` (default BR). */
  async function sealingFor(counterparty: Hex = PLMN.BR) {
    const { chainId } = await hre.ethers.provider.getNetwork();
    const context = { chainId, agreements: await c.agreements.getAddress(), proposer: PLMN.DE, counterparty };
    const theirPublicKey = (await c.carriers.getMember(counterparty)).encryptionKey as Hex;
    const key = pairwiseKey({ myPrivateKey: fixturePrivateKey(1), theirPublicKey, plmnA: PLMN.DE, plmnB: counterparty });
    return { context, key };
  }

  describe("agreement:propose and agreement:accept", function () {
    it("proposes the public part and sealed terms, accepts after opening them, and keeps a copy on both sides", async function () {
      const proposed = await captured(() => propose());
      expect(proposed).to.match(/262-01 proposed version 1 of the agreement with 724-05/);
      expect(proposed).to.contain("agreement:accept --partner 262-01 --agreement-version 1");
      expect(proposed).to.match(
        /the full terms went sealed for 724-05 \(\d+ bytes\); your copy: .*keys-de\/262-01\/agreements\/724-05\/v1\.json/,
      );
      expect(await c.agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(1n);

      // On chain: the public part and a commitment that DE's copy opens, nothing else.
      const v = await c.agreements.getVersion(PLMN.DE, PLMN.BR, 1);
      expect(v.proposer).to.equal(PLMN.DE);
      expect([v.terms.validFrom, v.terms.validUntil, v.terms.disputeWindow]).to.deep.equal([
        BigInt(start),
        BigInt(start + 365 * DAY),
        BigInt(7 * DAY),
      ]);
      const deCopy = loadLocalTerms(new Keystore(keys.de), { self: PLMN.DE, partner: PLMN.BR, version: 1 });
      expect(deCopy?.terms).to.deep.equal(parsed());
      expect(v.terms.termsCommitment).to.equal(termsCommitment(parsed(), deCopy!.salt));
      // Neither the transaction nor its logs carry a rate or the salt as a word: the rates travel sealed.
      const [sealedEvent] = await c.agreements.queryFilter(c.agreements.filters.AgreementTermsSealed(undefined, 1));
      const tx = await sealedEvent.getTransaction();
      const receipt = await sealedEvent.getTransactionReceipt();
      const published = [tx.data, ...receipt.logs.map((log) => log.data)].join("");
      for (const secret of [500_000n, 400_000n, 50_000n, 9_950n]) expect(published).not.to.contain(secret.toString(16).padStart(64, "0"));
      expect(published).not.to.contain(deCopy!.salt.slice(2));
      expect((getBytes(sealedEvent.args.sealedTerms).length - sealedLength(0) + 1024) % 1024).to.equal(0);

      const accepted = await captured(() => accept());
      expect((await c.agreements.getVersion(PLMN.DE, PLMN.BR, 1)).status).to.equal(ACCEPTED);
      expect(accepted).to.match(/724-05 accepted version 1 of the agreement with 262-01 .*these terms now bind both/);
      expect(accepted).to.match(/version 1: accepted/);
      expect(accepted).to.match(/proposed by 262-01 at .*; accepted at /);
      expect(accepted).to.contain(`valid ${isoTime(start)} .. ${isoTime(start + 365 * DAY)}`);
      expect(accepted).to.contain(`terms commitment ${v.terms.termsCommitment}`);
      expect(accepted).to.contain("full terms (from your key store):");
      expect(accepted).to.match(/724-05 \(you\)\s+1\s+0\.5\s+0\.0001\s+0\.01\s+0\.02\s+0\.05\s+>10000 MB -10 %/);
      expect(accepted).to.match(/262-01\s+1\s+0\.4\s+0\s+0\.01\s+0\.02\s+0\s+-/);
      expect(accepted).to.contain("after 90 days, 0.05 RLST per device-day");
      expect(accepted).to.match(/your copy: .*keys-br\/724-05\/agreements\/262-01\/v1\.json/);
      // BR's copy is DE's: the same terms and salt.
      const brCopy = loadLocalTerms(new Keystore(keys.br), { self: PLMN.BR, partner: PLMN.DE, version: 1 });
      expect(brCopy).to.deep.equal(deCopy);
      // The library gives either party the full terms in force (for ingest, invoices and reports).
      const inForce = await agreementTermsAt(await clientOf(), {
        keystore: new Keystore(keys.br),
        self: PLMN.BR,
        home: PLMN.DE,
        visited: PLMN.BR,
        time: start,
      });
      expect([inForce.version, inForce.source, inForce.terms.ratePlans[0].perMb]).to.deep.equal([1, "local", 500_000n]);
    });

    it("fails on a bad terms file with its name and line, sending nothing", async function () {
      const bad = terms();
      bad.rates[0].perMb = "0.5000001"; // 7 decimals; the token has 6
      await expect(propose(bad)).to.be.rejectedWith(/terms\.json:\d+ \(rates\[0\]\.perMb\): "0\.5000001" has 7 decimal places/);
      await expect(propose(terms({ disputeWindowDays: 120 }))).to.be.rejectedWith(/terms\.json:5 \(disputeWindowDays\)/);
      await expect(propose(terms({}, start - 400 * DAY, 30))).to.be.rejectedWith(
        /terms\.json:4 \(validUntil\): validUntil is not in the future/,
      );
      await expect(propose(terms({ colour: "blue" }))).to.be.rejectedWith(/terms\.json:\d+ \(colour\): unknown field "colour"/);
      expect(await c.agreements.versionCount(PLMN.DE, PLMN.BR)).to.equal(0n);
    });

    it("fails when the settlement token is not an ERC-20 token, naming where the file says so", async function () {
      await expect(propose(terms({ settlementToken: await c.carriers.getAddress() }))).to.be.rejectedWith(
        /terms\.json:2 \(settlementToken\): settlementToken 0x[0-9a-fA-F]{40} does not answer decimals\(\)/,
      );
    });

    it("fails without the proposer's registered key in the key store, sending nothing", async function () {
      const message = await failureOf(
        hre.run("agreement:propose", { partner: "724-05", terms: write(terms()), keystore: keys.us, from: FROM.de }),
      );
      expect(message).to.match(/no encryption private key: .*keys-us\/262-01\/encryption\.key does not exist/);
      const wrong = await failureOf(
        hre.run("agreement:propose", { partner: "724-05", terms: write(terms()), keystore: keys.br, from: FROM.br }),
      );
      expect(wrong).to.match(/724-05 is your own carrier/);
      expect(await c.agreements.versionCount(PLMN.DE, PLMN.BR)).to.equal(0n);
    });

    it("fails when the partner is malformed, the proposer itself, not in the file's plans or not a carrier", async function () {
      const run = (partner: string, content: object = terms()) =>
        hre.run("agreement:propose", { partner, terms: write(content), keystore: keys.de, from: FROM.de });
      await expect(run("724-5")).to.be.rejectedWith(/--partner: "724-5" is not a PLMN id/);
      await expect(run("262-01")).to.be.rejectedWith(/--partner: 262-01 is your own carrier/);
      await expect(run("234-15")).to.be.rejectedWith(/terms\.json:\d+ \(rates\[0\]\.visited\): 724-05 is not a party to this agreement/);
      const toMaker = terms({ rates: terms().rates.map((p) => ({ ...p, visited: p.visited === "724-05" ? "999-01" : p.visited })) });
      await expect(run("999-01", toMaker)).to.be.rejectedWith(/RoamingAgreementsInvalidCounterparty\(counterparty=999-01\)/);
    });

    it("refuses an unauthorized --from with the decoded custom error", async function () {
      await expect(propose(terms(), FROM.outsider)).to.be.rejectedWith(/CarrierRegistryNotActiveOperator\(account=0x/);
      await expect(propose(terms(), FROM.maker)).to.be.rejectedWith(/CarrierRegistryMissingRole\(account=0x.*plmn=999-01, role=1\)/);
      await propose();
      await expect(hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
      // The proposer's own second operator cannot accept.
      await expect(
        hre.run("agreement:accept", { partner: "724-05", agreementVersion: 1, keystore: keys.de, from: FROM.de2 }),
      ).to.be.rejectedWith(/RoamingAgreementsProposerCannotAccept\(key=0x[0-9a-f]{64}, version=1, proposer=262-01\)/);
      // A third carrier has no such version with DE.
      await expect(
        hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, keystore: keys.us, from: FROM.us }),
      ).to.be.rejectedWith(/RoamingAgreementsUnknownVersion/);
      await expect(accept(2)).to.be.rejectedWith(/RoamingAgreementsUnknownVersion/);
      await expect(hre.run("agreement:accept", { partner: "262-01", agreementVersion: 0, from: FROM.br })).to.be.rejectedWith(
        /--agreement-version must be a version number from 1/,
      );
      expect(await c.agreements.acceptedVersions(PLMN.DE, PLMN.BR)).to.deep.equal([]);
    });
  });

  describe("gas", function () {
    /** Gas of the latest `name` transaction of RoamingAgreements. */
    async function gasOf(name: "AgreementTermsSealed" | "AgreementAccepted"): Promise<bigint> {
      const events = await c.agreements.queryFilter(c.agreements.filters[name]());
      const receipt = await events[events.length - 1].getTransactionReceipt();
      return receipt.gasUsed;
    }

    it("proposes and accepts 2 plans and the largest terms (64 plans of 8 tiers) far below 16,777,216 gas", async function () {
      await propose();
      await accept();
      const small = { propose: await gasOf("AgreementTermsSealed"), accept: await gasOf("AgreementAccepted") };
      const tiers = Array.from({ length: 8 }, (_, j) => ({ fromMb: 1000 * (j + 1), discountPercent: j + 1 }));
      const rates = Array.from({ length: 64 }, (_, i) => ({
        ...terms().rates[0],
        visited: i % 2 === 0 ? "724-05" : "262-01",
        tariffClass: Math.floor(i / 2),
        tiers,
      }));
      await propose(terms({ rates }, start + 365 * DAY));
      await accept(2);
      const large = { propose: await gasOf("AgreementTermsSealed"), accept: await gasOf("AgreementAccepted") };
      console.log(
        `      gas: propose 2 plans ${small.propose}, accept ${small.accept}; 64x8 propose ${large.propose}, accept ${large.accept}`,
      );
      for (const gas of [small.propose, small.accept, large.propose, large.accept]) expect(gas < 16_777_216n).to.equal(true);
      const full = await agreementTerms(await clientOf(), { keystore: new Keystore(keys.br), self: PLMN.BR, partner: PLMN.DE, version: 2 });
      expect(full.terms.ratePlans).to.have.length(64);
    });
  });

  describe("a counterparty never accepts terms it could not open and check", function () {
    /** DE proposes `publicTerms` with `sealed` straight to the contract (a proposer that cheats). */
    async function cheat(publicTerms: PublicTerms, sealed: Uint8Array) {
      await (await c.agreements.connect(c.de).propose(PLMN.BR, publicTerms, sealed)).wait();
    }

    /** BR's accept fails with a message matching `why`; nothing accepted, nothing copied. */
    async function expectRefused(why: RegExp) {
      const message = await failureOf(accept());
      expect(message).to.match(why);
      expect(message).to.match(/What to do: do not accept/);
      expect(await c.agreements.acceptedVersions(PLMN.DE, PLMN.BR)).to.deep.equal([]);
      expect(await c.agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(1n);
      expect(fs.existsSync(localTermsPath(new Keystore(keys.br), { self: PLMN.BR, partner: PLMN.DE, version: 1 }))).to.equal(false);
    }

    it("refuses a proposer that commits to other terms than it sealed", async function () {
      const { context, key } = await sealingFor();
      const committed = parsed();
      const other = parsed(terms({ rates: terms().rates.map((p) => ({ ...p, perMb: "0.05" })) }));
      const { publicTerms } = sealTerms({ key, context, terms: committed, salt: randomSalt() });
      const { sealed } = sealTerms({ key, context, terms: other, salt: randomSalt() });
      await cheat(publicTerms, sealed);
      await expectRefused(/the sealed terms of version 1 from 262-01 do not open with the pair's key/);
    });

    it("refuses sealed terms bound to the commitment that do not open it", async function () {
      const { context, key } = await sealingFor();
      const salt = randomSalt();
      const { publicTerms } = sealTerms({ key, context, terms: parsed(), salt });
      const other = parsed(terms({ rates: terms().rates.map((p) => ({ ...p, perMb: "0.05" })) }));
      // Sealed by hand with the additional data of the committed terms, but other terms inside.
      const aad = AbiCoder.defaultAbiCoder().encode(
        ["string", "uint256", "address", "bytes3", "bytes3", "bytes32"],
        ["roamledger/sealed-terms/v1", context.chainId, context.agreements, PLMN.DE, PLMN.BR, publicTerms.termsCommitment],
      );
      const sealed = sealAbi({
        key,
        kind: SEALED_TERMS_KIND,
        types: [TERMS_TUPLE_TYPE, "bytes32"],
        values: [other, salt],
        aad: getBytes(aad),
      });
      await cheat(publicTerms, sealed);
      await expectRefused(/termsCommitment does not match: expected 0x[0-9a-f]{64}, the sealed data gives 0x[0-9a-f]{64}/);
    });

    it("refuses terms sealed with another pair's key or altered on the way", async function () {
      const { context, key: usKey } = await sealingFor(PLMN.US);
      const { publicTerms, sealed } = sealTerms({
        key: usKey,
        context: { ...context, counterparty: PLMN.BR },
        terms: parsed(),
        salt: randomSalt(),
      });
      await cheat(publicTerms, sealed);
      await expectRefused(/do not open with the pair's key/);
    });
  });

  describe("who reads the full terms", function () {
    beforeEach(async function () {
      await propose();
      await accept();
    });

    it("shows a third member the public part only, and its keys do not open the sealed terms", async function () {
      // US uses its own key store, claiming to be BR: it has no key of BR.
      const third = await show(keys.us);
      expect(third).to.contain(`valid ${isoTime(start)} .. ${isoTime(start + 365 * DAY)}`);
      expect(third).to.match(/dispute window 7 day\(s\)/);
      expect(third).to.match(
        /full terms \(rates, tiers, SLA\): sealed for the two parties, not shown \(no encryption private key: .*keys-us\/724-05/,
      );
      expect(third).not.to.match(/SLA:|rates in|0\.5/);
      // US's pairwise key with either party does not open the event.
      const [event] = await c.agreements.queryFilter(c.agreements.filters.AgreementTermsSealed(undefined, 1));
      const { context } = await sealingFor();
      const publicTerms = (await c.agreements.getVersion(PLMN.DE, PLMN.BR, 1)).terms;
      for (const party of [PLMN.DE, PLMN.BR]) {
        const theirPublicKey = (await c.carriers.getMember(party)).encryptionKey as Hex;
        const key = pairwiseKey({ myPrivateKey: fixturePrivateKey(2), theirPublicKey, plmnA: PLMN.US, plmnB: party });
        expect(() => openTerms({ key, context, sealed: getBytes(event.args.sealedTerms), publicTerms })).to.throw(CryptoError);
      }
      // Without any key store, a party's own view says why.
      expect(await show(path.join(env.dir, "nowhere"))).to.match(/not shown \(no encryption private key/);
    });

    it("shows a party the full terms, opening them from the chain when its copy is gone", async function () {
      const copy = localTermsPath(new Keystore(keys.de), { self: PLMN.DE, partner: PLMN.BR, version: 1 });
      fs.rmSync(copy);
      const opened = await show(keys.de, "262-01");
      expect(opened).to.contain("full terms (opened from the chain with the pair's key, now copied to your key store):");
      expect(opened).to.match(/724-05\s+1\s+0\.5\s+0\.0001/);
      expect(fs.existsSync(copy)).to.equal(true);
      expect(await show(keys.de, "262-01")).to.contain("full terms (from your key store):");
    });

    it("keeps the terms readable from the key store after a key rotation, and not without the copy", async function () {
      // BR moves to a new encryption key (keys:init on a new machine, then carrier:rotate-key).
      const brKey = new Keystore(keys.br).encryptionKeyPath("724-05");
      fs.rmSync(brKey);
      new Keystore(keys.br).ensureEncryptionKey("724-05");
      await hre.run("carrier:rotate-key", { keystore: keys.br, from: FROM.br });

      for (const [keystore, as] of [
        [keys.br, "724-05"],
        [keys.de, "262-01"],
      ]) {
        const view = await show(keystore, as);
        expect(view).to.contain("full terms (from your key store):");
        expect(view).to.match(/0\.5\s+0\.0001\s+0\.01/);
      }
      const full = await agreementTerms(await clientOf(), { keystore: new Keystore(keys.br), self: PLMN.BR, partner: PLMN.DE, version: 1 });
      expect([full.source, full.terms.ratePlans[1].perMb]).to.deep.equal(["local", 400_000n]);

      // The pair's key changed: without its copy, neither side can open the event any more.
      fs.rmSync(localTermsPath(new Keystore(keys.de), { self: PLMN.DE, partner: PLMN.BR, version: 1 }));
      expect(await show(keys.de, "262-01")).to.match(
        /not shown \(the sealed terms of version 1 from 262-01 do not open with the pair's key\)/,
      );
      const message = await failureOf(
        agreementTerms(await clientOf(c.de), { keystore: new Keystore(keys.de), self: PLMN.DE, partner: PLMN.BR, version: 1 }),
      );
      expect(message).to.match(/your encryption key changed since you proposed them|restore the copy or the old key/);
    });

    it("refuses a copy that does not open the chain's commitment", async function () {
      const copy = localTermsPath(new Keystore(keys.br), { self: PLMN.BR, partner: PLMN.DE, version: 1 });
      const content = JSON.parse(fs.readFileSync(copy, "utf8"));
      content.terms.ratePlans[0].perMb = "1";
      fs.writeFileSync(copy, JSON.stringify(content));
      expect(await show(keys.br)).to.match(/not shown \(.*v1\.json: its terms and salt do not give the commitment it records\)/);
    });
  });

  describe("agreement:show", function () {
    it("shows every version with its status and which one is in force now", async function () {
      await propose();
      await accept();
      // An amendment that ends the agreement early, accepted; then a pending counter-offer.
      await propose(terms({}, start + 10 * DAY, 20));
      await accept(2);
      await hre.run("agreement:propose", { partner: "262-01", terms: write(terms(), "counter.json"), keystore: keys.br, from: FROM.br });

      const before = await show(keys.de, "262-01");
      expect(before).to.match(/^Agreement between 262-01 \(you\) and 724-05: 3 version\(s\)/);
      expect(before).to.match(/version 1: accepted\n/);
      expect(before).to.match(/version 2: accepted\n/);
      expect(before).to.match(/version 3: proposed\n\s+proposed by 724-05 at /);
      expect(before).to.contain(`valid ${isoTime(start + 10 * DAY)} .. ${isoTime(start + 30 * DAY)}`);
      expect(before).to.contain("No version is in force now."); // version 1 starts tomorrow
      expect(before).to.contain("Pending proposal: version 3.");
      // DE had not opened BR's counter-offer yet: it is opened and copied now.
      expect(before).to.match(/version 3: proposed\n(.*\n){5}\s+full terms \(opened from the chain/);
      // Which classes each side prices is public (F10): a third member sees it too, never the rates.
      expect(before).to.contain("tariff classes priced (public): by 724-05 as visited: 1; by 262-01 (you) as visited: 1");

      await time.increaseTo(start + 5 * DAY);
      const during = await show(keys.de, "262-01");
      expect(during).to.match(/version 1: accepted, in force now/);
      expect(during).to.contain("In force now: version 1.");

      await time.increaseTo(start + 30 * DAY);
      const after = await show(keys.br);
      expect(after).to.match(/^Agreement between 724-05 \(you\) and 262-01/);
      expect(after).to.contain("No version is in force now."); // version 2 ended it early
    });

    it("shows one version, from the account's member and the default key store", async function () {
      await propose();
      // With no --as, the first configured account is asked: the deployer operates for no member.
      await expect(hre.run("agreement:show", { partner: "724-05" })).to.be.rejectedWith(/pass --as with your carrier/);
      fs.cpSync(keys.br, process.env.ROAMLEDGER_HOME!, { recursive: true });
      const one = await captured(() => hre.run("agreement:show", { partner: "262-01", agreementVersion: 1, as: "724-05" }));
      expect(one).to.match(/version 1: proposed\n\s+proposed by 262-01 at /);
      expect(one).to.match(/settlement token 0x[0-9a-fA-F]{40} \(RLST, 6 decimals\); dispute window 7 day\(s\)/);
      expect(one).to.match(/SLA: latency <= 500 ms, throughput >= 100 kbit\/s, availability >= 99\.5 %/);
      await expect(hre.run("agreement:show", { partner: "262-01", agreementVersion: 2, as: "724-05" })).to.be.rejectedWith(
        /RoamingAgreementsUnknownVersion\(key=0x[0-9a-f]{64}, version=2\)/,
      );
    });

    it("says so when nothing was proposed", async function () {
      const none = await captured(() => hre.run("agreement:show", { partner: "310-410", as: "262-01" }));
      expect(none).to.equal("No agreement has been proposed between 262-01 (you) and 310-410.");
    });
  });
});
