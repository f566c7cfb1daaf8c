/**
 * CarrierRegistry's TADIG codes (registerTadig, releaseTadig, plmnOfTadig, tadigCodesOf): who may register,
 * the code's format, one holder per code, the 16-code cap, release and re-registration by another member, a
 * suspended member's codes, and the gas of the worst case.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { hexlify, toUtf8Bytes } from "ethers";
import { deployConsortium, PLMN } from "../helpers/fixtures";
import { PERMISSION_BITS } from "../../lib/core/roles";

const ProposalKind = { Suspend: 1, Reinstate: 2 } as const;
const NONE = "0x000000";

/** A 5-character code as the contract takes it: its ASCII bytes as hex. */
const code = (text: string) => hexlify(toUtf8Bytes(text));

/** Sixteen valid codes AAA00 ... AAA15 (letters then digits). */
const sixteen = () => Array.from({ length: 16 }, (_, i) => code(`AAA${String(i).padStart(2, "0")}`));

describe("CarrierRegistry: TADIG codes", function () {
  describe("registerTadig", function () {
    it("registers a code for the caller's member: event, plmnOfTadig and tadigCodesOf", async function () {
      const { carriers, de, de2 } = await loadFixture(deployConsortium);
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(NONE);
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([]);
      await expect(carriers.connect(de).registerTadig(code("DEUD1")))
        .to.emit(carriers, "TadigRegistered")
        .withArgs(PLMN.DE, code("DEUD1"));
      // Any admin key of the member may register: de2 is DE's second operator.
      await carriers.connect(de2).registerTadig(code("DEUD2"));
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(PLMN.DE);
      expect(await carriers.plmnOfTadig(code("DEUD2"))).to.equal(PLMN.DE);
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([code("DEUD1"), code("DEUD2")]);
      expect(await carriers.tadigCodesOf(PLMN.US)).to.deep.equal([]);
    });

    it("accepts 3 upper-case letters then 2 upper-case letters or digits, at the edges of each range", async function () {
      const { carriers, br } = await loadFixture(deployConsortium);
      for (const text of ["AAAAA", "ZZZZZ", "AZA09", "BRA90", "BRAV2"]) {
        await expect(carriers.connect(br).registerTadig(code(text)), text).to.emit(carriers, "TadigRegistered");
      }
      expect(await carriers.tadigCodesOf(PLMN.BR)).to.have.length(5);
    });

    it("refuses a code that is not 3 upper-case ASCII letters and 2 upper-case ASCII letters or digits", async function () {
      const { carriers, de } = await loadFixture(deployConsortium);
      const bad = [
        "deud1", // lower case
        "DEUd1",
        "1EUD1", // a digit among the first three
        "DE1D1",
        "@EUD1", // 0x40, just below A
        "[EUD1", // 0x5B, just above Z
        "DEU/1", // 0x2F, just below 0
        "DEU:1", // 0x3A, just above 9
        "DEUD ",
        "DEUD\u007f",
      ];
      for (const text of bad) {
        await expect(carriers.connect(de).registerTadig(code(text)), text)
          .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidTadig")
          .withArgs(code(text));
      }
      for (const raw of ["0x0000000000", "0x4445554400", "0xc4455544f1"]) {
        await expect(carriers.connect(de).registerTadig(raw), raw)
          .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidTadig")
          .withArgs(raw);
      }
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([]);
    });

    it("refuses a code another member holds, naming the holder, and the member's own code a second time", async function () {
      const { carriers, de, br } = await loadFixture(deployConsortium);
      await carriers.connect(de).registerTadig(code("DEUD1"));
      await expect(carriers.connect(br).registerTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigTaken")
        .withArgs(code("DEUD1"), PLMN.DE);
      // Registering one's own code again is refused too (not a silent no-op): nothing changes, no event.
      await expect(carriers.connect(de).registerTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigTaken")
        .withArgs(code("DEUD1"), PLMN.DE);
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([code("DEUD1")]);
      expect(await carriers.tadigCodesOf(PLMN.BR)).to.deep.equal([]);
    });

    it("holds at most 16 codes per member; a released one makes room", async function () {
      const { carriers, us, br } = await loadFixture(deployConsortium);
      for (const c of sixteen()) await carriers.connect(us).registerTadig(c);
      await expect(carriers.connect(us).registerTadig(code("USA99")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigLimit")
        .withArgs(PLMN.US, 16);
      // The cap is per member: another member still registers.
      await carriers.connect(br).registerTadig(code("BRAV2"));
      await carriers.connect(us).releaseTadig(code("AAA07"));
      await expect(carriers.connect(us).registerTadig(code("USA99")))
        .to.emit(carriers, "TadigRegistered")
        .withArgs(PLMN.US, code("USA99"));
      expect(await carriers.tadigCodesOf(PLMN.US)).to.have.length(16);
    });

    it("refuses an account of no member, a device maker, and an operator key without admin", async function () {
      const { carriers, de, de2, maker, outsider } = await loadFixture(deployConsortium);
      await expect(carriers.connect(outsider).registerTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
      // TADIG codes are a carrier's: a device maker sends no TAP files.
      await expect(carriers.connect(maker).registerTadig(code("ACMEA")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole")
        .withArgs(maker.address, PLMN.MAKER, 1);
      await carriers.connect(de).setOperatorPermissions(de2.address, PERMISSION_BITS.usage | PERMISSION_BITS.treasury);
      await expect(carriers.connect(de2).registerTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingPermission")
        .withArgs(de2.address, PLMN.DE, PERMISSION_BITS.admin);
      await carriers.connect(de).registerTadig(code("DEUD1"));
      await expect(carriers.connect(de2).releaseTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingPermission")
        .withArgs(de2.address, PLMN.DE, PERMISSION_BITS.admin);
      await expect(carriers.connect(outsider).releaseTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(PLMN.DE);
    });
  });

  describe("releaseTadig", function () {
    it("releases a code (event, views), after which another member registers it", async function () {
      const { carriers, de, br } = await loadFixture(deployConsortium);
      for (const c of ["DEUD1", "DEUD2", "DEUD3"]) await carriers.connect(de).registerTadig(code(c));
      await expect(carriers.connect(de).releaseTadig(code("DEUD1")))
        .to.emit(carriers, "TadigReleased")
        .withArgs(PLMN.DE, code("DEUD1"));
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(NONE);
      // The last code takes the released one's place.
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([code("DEUD3"), code("DEUD2")]);
      await carriers.connect(de).releaseTadig(code("DEUD2"));
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([code("DEUD3")]);
      await carriers.connect(de).releaseTadig(code("DEUD3"));
      expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([]);
      await expect(carriers.connect(br).registerTadig(code("DEUD1")))
        .to.emit(carriers, "TadigRegistered")
        .withArgs(PLMN.BR, code("DEUD1"));
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(PLMN.BR);
      // ...and the first holder may take back only what is free.
      await expect(carriers.connect(de).registerTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigTaken")
        .withArgs(code("DEUD1"), PLMN.BR);
    });

    it("refuses a code the caller's member does not hold: free, or another member's", async function () {
      const { carriers, de, br } = await loadFixture(deployConsortium);
      await expect(carriers.connect(de).releaseTadig(code("DEUD1")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigNotHeld")
        .withArgs(code("DEUD1"), PLMN.DE);
      await carriers.connect(br).registerTadig(code("BRAV2"));
      await expect(carriers.connect(de).releaseTadig(code("BRAV2")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigNotHeld")
        .withArgs(code("BRAV2"), PLMN.DE);
      expect(await carriers.plmnOfTadig(code("BRAV2"))).to.equal(PLMN.BR);
      // A released code cannot be released twice.
      await carriers.connect(br).releaseTadig(code("BRAV2"));
      await expect(carriers.connect(br).releaseTadig(code("BRAV2")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigNotHeld")
        .withArgs(code("BRAV2"), PLMN.BR);
    });

    it("costs little gas even for the first of 16 codes (the longest scan)", async function () {
      const { carriers, us } = await loadFixture(deployConsortium);
      const codes = sixteen();
      // Measured: 96,267 gas for the member's first code (new list), 62,117 for most; 45,296 to release the
      // first of 16 (the longest scan).
      for (const c of codes) {
        const registered = await (await carriers.connect(us).registerTadig(c)).wait();
        expect(registered!.gasUsed).to.be.below(100_000n);
      }
      const release = await (await carriers.connect(us).releaseTadig(codes[0])).wait();
      expect(release!.gasUsed).to.be.below(50_000n);
      expect(await carriers.tadigCodesOf(PLMN.US)).to.deep.equal([codes[15], ...codes.slice(1, 15)]);
    });
  });

  describe("a suspended member", function () {
    async function withSuspendedBrazil() {
      const c = await deployConsortium();
      await c.carriers.connect(c.br).registerTadig(code("BRAV2"));
      await c.carriers.connect(c.de).proposeStatusChange(ProposalKind.Suspend, PLMN.BR);
      await c.carriers.connect(c.us).approve(await c.carriers.proposalCount());
      return c;
    }

    it("keeps its codes: lookups still answer its PLMN, which is not active", async function () {
      const { carriers, de } = await loadFixture(withSuspendedBrazil);
      expect(await carriers.plmnOfTadig(code("BRAV2"))).to.equal(PLMN.BR);
      expect(await carriers.tadigCodesOf(PLMN.BR)).to.deep.equal([code("BRAV2")]);
      expect(await carriers.isActive(PLMN.BR)).to.equal(false);
      // Nobody else can take them meanwhile.
      await expect(carriers.connect(de).registerTadig(code("BRAV2")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryTadigTaken")
        .withArgs(code("BRAV2"), PLMN.BR);
    });

    it("can neither register nor release codes until reinstated", async function () {
      const { carriers, br, de, us } = await loadFixture(withSuspendedBrazil);
      await expect(carriers.connect(br).registerTadig(code("BRAV3")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(br.address);
      await expect(carriers.connect(br).releaseTadig(code("BRAV2")))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(br.address);
      await carriers.connect(de).proposeStatusChange(ProposalKind.Reinstate, PLMN.BR);
      await carriers.connect(us).approve(await carriers.proposalCount());
      await expect(carriers.connect(br).registerTadig(code("BRAV3")))
        .to.emit(carriers, "TadigRegistered")
        .withArgs(PLMN.BR, code("BRAV3"));
      await expect(carriers.connect(br).releaseTadig(code("BRAV2")))
        .to.emit(carriers, "TadigReleased")
        .withArgs(PLMN.BR, code("BRAV2"));
      expect(await carriers.tadigCodesOf(PLMN.BR)).to.deep.equal([code("BRAV3")]);
    });
  });

  describe("threats (docs/threat-model.md, TADIG codes and Besu nodes)", function () {
    it("an operator's removal leaves the member's codes: the removed key can no longer release one, another ADMIN key can", async function () {
      const { carriers, de, de2 } = await loadFixture(deployConsortium);
      await carriers.connect(de2).registerTadig(code("DEUD1"));
      await carriers.connect(de).removeOperator(de2.address);
      expect(await carriers.plmnOfTadig(code("DEUD1"))).to.equal(PLMN.DE);
      for (const call of [
        () => carriers.connect(de2).releaseTadig(code("DEUD1")),
        () => carriers.connect(de2).registerTadig(code("DEUD2")),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator").withArgs(de2.address);
      }
      await expect(carriers.connect(de).releaseTadig(code("DEUD1")))
        .to.emit(carriers, "TadigReleased")
        .withArgs(PLMN.DE, code("DEUD1"));
    });
  });

  it("leaves CarrierRegistry under the 24,576-byte contract size limit (EIP-170)", async function () {
    // solidity-coverage's instrumented bytecode is about twice the size: the limit is the real build's.
    if (process.env.SOLIDITY_COVERAGE) this.skip();
    const artifact = await hre.artifacts.readArtifact("CarrierRegistry");
    expect((artifact.deployedBytecode.length - 2) / 2).to.be.below(24_576);
  });
});
