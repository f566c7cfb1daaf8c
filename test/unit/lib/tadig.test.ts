import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ContractRevertError, InputError } from "../../../lib/core/errors";
import { connectRoamLedger } from "../../../lib/chain/client";
import { decodeRevert } from "../../../lib/chain/revert";
import {
  checkTadig,
  ensureTadigCodes,
  plmnOfTadig,
  registerTadig,
  releaseTadig,
  TADIG_RE,
  tadigCodesOf,
  tadigFromBytes5,
  tadigToBytes5,
} from "../../../lib/consortium/tadig";
import * as consortium from "../../../lib/consortium";
import { addressesOf, deployConsortium, PLMN } from "../../helpers/fixtures";

async function clients() {
  const c = await deployConsortium();
  const addresses = await addressesOf(c);
  return {
    c,
    de: connectRoamLedger(addresses, c.de),
    br: connectRoamLedger(addresses, c.br),
    us: connectRoamLedger(addresses, c.us),
    maker: connectRoamLedger(addresses, c.maker),
    outsider: connectRoamLedger(addresses, c.outsider),
  };
}

describe("lib/consortium/tadig: TADIG codes on chain", function () {
  describe("the code's format", function () {
    it("accepts 3 upper-case letters and 2 upper-case letters or digits", function () {
      for (const ok of ["DEUD1", "BRAV2", "USACG", "AAA00", "ZZZ9Z"]) expect(checkTadig(ok), ok).to.equal(ok);
      expect(TADIG_RE.test("DEUD1")).to.equal(true);
    });

    it("refuses anything else with an InputError naming the parameter and the format", function () {
      for (const bad of ["", "DEUD", "DEUD12", "deud1", "DE1D1", " DEUD1", "DEUD1 ", "DEUD-", "DÉUD1"]) {
        expect(() => checkTadig(bad, "add"), JSON.stringify(bad))
          .to.throw(InputError, "is not a TADIG code")
          .that.satisfies(
            (e: InputError) => e.location?.param === "add" && /3 upper-case letters and 2 upper-case letters or digits/.test(e.message),
          );
      }
      expect(() => checkTadig("x"))
        .to.throw(InputError)
        .with.property("location")
        .that.deep.equals({ param: "code" });
    });

    it("converts a code to the registry's bytes5 and back", function () {
      expect(tadigToBytes5("DEUD1")).to.equal("0x4445554431");
      expect(tadigFromBytes5("0x4445554431")).to.equal("DEUD1");
      expect(() => tadigToBytes5("DEU")).to.throw(InputError);
    });

    it("is the one copy, exported from lib/consortium (lib/invoice/billing imports it)", function () {
      expect(consortium.TADIG_RE).to.equal(TADIG_RE);
      expect(consortium.plmnOfTadig).to.equal(plmnOfTadig);
    });
  });

  describe("on chain", function () {
    it("registers, looks up and lists codes, and releases them", async function () {
      const { de, br } = await loadFixture(clients);
      expect(await plmnOfTadig(de, "DEUD1")).to.equal(undefined);
      expect(await tadigCodesOf(de, PLMN.DE)).to.deep.equal([]);
      const hash = await registerTadig(de, "DEUD1");
      expect(hash).to.match(/^0x[0-9a-f]{64}$/);
      await registerTadig(de, "DEUD2");
      expect(await plmnOfTadig(br, "DEUD1")).to.equal(PLMN.DE);
      expect(await tadigCodesOf(br, PLMN.DE)).to.deep.equal(["DEUD1", "DEUD2"]);
      expect(await releaseTadig(de, "DEUD1")).to.match(/^0x[0-9a-f]{64}$/);
      expect(await plmnOfTadig(br, "DEUD1")).to.equal(undefined);
      await registerTadig(br, "DEUD1");
      expect(await plmnOfTadig(de, "DEUD1")).to.equal(PLMN.BR);
    });

    it("answers undefined for a string that is not a code (a TAP file's malformed sender)", async function () {
      const { de } = await loadFixture(clients);
      expect(await plmnOfTadig(de, "deud1")).to.equal(undefined);
      expect(await plmnOfTadig(de, "")).to.equal(undefined);
    });

    it("refuses before sending: a bad code, a code held by another member (named) or by the own member", async function () {
      const { de, br } = await loadFixture(clients);
      await registerTadig(de, "DEUD1");
      await expect(registerTadig(br, "deud1")).to.be.rejectedWith(InputError, /is not a TADIG code/);
      await expect(registerTadig(br, "DEUD1")).to.be.rejectedWith(InputError, "TADIG code DEUD1 is held by 262-01 Telekom Deutschland");
      const own = await registerTadig(de, "DEUD1").catch((e: InputError) => e);
      expect(own).to.be.instanceOf(InputError);
      expect((own as InputError).message)
        .to.include("held by your member, 262-01")
        .and.include("registered already");
      await expect(releaseTadig(br, "DEUD1")).to.be.rejectedWith(
        InputError,
        "724-05 does not hold TADIG code DEUD1: 262-01 Telekom Deutschland does",
      );
      await expect(releaseTadig(br, "BRAV2")).to.be.rejectedWith(InputError, "724-05 does not hold TADIG code BRAV2: no member does");
      await expect(releaseTadig(br, "bad")).to.be.rejectedWith(InputError, /is not a TADIG code/);
      expect(await tadigCodesOf(de, PLMN.BR)).to.deep.equal([]);
    });

    it("refuses a 17th code before sending, saying to release one", async function () {
      const { us } = await loadFixture(clients);
      for (let i = 0; i < 16; i++) await registerTadig(us, `USA${String(i).padStart(2, "0")}`);
      const err = await registerTadig(us, "USAXX").catch((e: InputError) => e);
      expect(err).to.be.instanceOf(InputError);
      expect((err as InputError).message).to.include("310-410 holds 16 TADIG codes already");
      expect((err as InputError).next).to.deep.include({ operation: "carrier:tadig", args: { remove: "CODE" } });
    });

    it("passes the registry's decoded revert through for who may not register: a device maker, an outsider", async function () {
      const { maker, outsider } = await loadFixture(clients);
      const err = await registerTadig(maker, "ACMEA").catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ContractRevertError);
      expect((err as Error).message).to.include("CarrierRegistryMissingRole");
      await expect(registerTadig(outsider, "ACMEA")).to.be.rejectedWith(ContractRevertError, "CarrierRegistryNotActiveOperator");
      // A release by an account of no member reaches the registry too (nothing to compare before sending).
      await expect(releaseTadig(outsider, "ACMEA")).to.be.rejectedWith(ContractRevertError, "CarrierRegistryNotActiveOperator");
    });

    it("shows a TADIG code in a decoded revert as its text", async function () {
      const { c, de } = await loadFixture(clients);
      await registerTadig(de, "DEUD1");
      const raw = await c.carriers
        .connect(c.br)
        .registerTadig(tadigToBytes5("DEUD1"))
        .catch((e: unknown) => e);
      const decoded = decodeRevert(raw) as ContractRevertError;
      expect(decoded).to.be.instanceOf(ContractRevertError);
      expect(decoded.message).to.include("CarrierRegistryTadigTaken(code=DEUD1, holder=262-01)").and.include("release it");
    });

    it("ensureTadigCodes registers what the member lacks, keeps what it holds, refuses another member's", async function () {
      const { de, br } = await loadFixture(clients);
      await registerTadig(de, "DEUD1");
      expect(await ensureTadigCodes(de, ["DEUD1", "DEUD2"])).to.deep.equal({ registered: ["DEUD2"], held: ["DEUD1"] });
      expect(await ensureTadigCodes(de, ["DEUD1", "DEUD2"])).to.deep.equal({ registered: [], held: ["DEUD1", "DEUD2"] });
      await expect(ensureTadigCodes(br, ["BRAV2", "DEUD2"])).to.be.rejectedWith(InputError, "TADIG code DEUD2 is held by 262-01");
      // Nothing was sent for the list refused.
      expect(await tadigCodesOf(br, PLMN.BR)).to.deep.equal([]);
      expect(await tadigCodesOf(de, PLMN.DE)).to.deep.equal(["DEUD1", "DEUD2"]);
    });
  });
});
