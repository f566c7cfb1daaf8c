import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, type Consortium } from "../../helpers/fixtures";
import { captured, FROM, failureOf as message, useDeploymentForTasks } from "../../helpers/tasks";
import { plmnOfTadig, tadigCodesOf } from "../../../lib/consortium/tadig";
import { connectRoamLedger } from "../../../lib/chain/client";
import { addressesOf } from "../../helpers/fixtures";

describe("tasks: carrier:tadig, and TADIG codes in carrier:show / carrier:list", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let c: Consortium;

  beforeEach(async function () {
    c = await loadFixture(deployConsortium);
    env = await useDeploymentForTasks(c);
  });
  afterEach(() => env.cleanup());

  const codesOf = async (plmn: string) => tadigCodesOf(connectRoamLedger(await addressesOf(c), c.outsider), plmn as `0x${string}`);

  it("adds, lists and removes a member's codes, and carrier:show / carrier:list print them", async function () {
    const added = await captured(() => hre.run("carrier:tadig", { add: "DEUD1", from: FROM.de }));
    expect(added).to.match(/Registered TADIG code DEUD1 for 262-01 \(transaction 0x[0-9a-f]{64}\): TAP files naming DEUD1 are 262-01's\./);
    expect(added).to.contain("262-01 holds TADIG code DEUD1.");
    await hre.run("carrier:tadig", { add: "DEUD2", from: FROM.de2 });
    expect(await codesOf(PLMN.DE)).to.deep.equal(["DEUD1", "DEUD2"]);
    expect(await captured(() => hre.run("carrier:tadig", { from: FROM.de }))).to.equal("262-01 holds TADIG codes DEUD1, DEUD2.");
    expect(await captured(() => hre.run("carrier:show", { plmn: "262-01" }))).to.contain("  TADIG codes:    DEUD1, DEUD2");
    expect(await captured(() => hre.run("carrier:show", { plmn: "724-05" }))).to.contain("  TADIG codes:    none");
    const list = await captured(() => hre.run("carrier:list", {}));
    expect(list).to.match(/262-01 .* Telekom Deutschland {2}TADIG DEUD1, DEUD2\n/);
    expect(list).to.match(/724-05 .* Vivo Brasil\n/);

    const removed = await captured(() => hre.run("carrier:tadig", { remove: "DEUD1", from: FROM.de }));
    expect(removed).to.match(/Released TADIG code DEUD1 of 262-01 \(transaction 0x[0-9a-f]{64}\)\./);
    expect(removed).to.contain("262-01 holds TADIG code DEUD2.");
    await hre.run("carrier:tadig", { remove: "DEUD2", from: FROM.de });
    expect(await captured(() => hre.run("carrier:tadig", { from: FROM.de }))).to.equal(
      "262-01 holds no TADIG code; register one with `npx hardhat carrier:tadig --add CODE --from 1`.",
    );
    // Released, the code is free for another member.
    await hre.run("carrier:tadig", { add: "DEUD1", from: FROM.br });
    expect(await plmnOfTadig(connectRoamLedger(await addressesOf(c), c.outsider), "DEUD1")).to.equal(PLMN.BR);
  });

  it("says what a TADIG code looks like when the flag's value is not one, before connecting", async function () {
    for (const [flag, value] of [
      ["add", "deud1"],
      ["add", "DEUD"],
      ["remove", "DE-D1"],
    ] as const) {
      const msg = await message(hre.run("carrier:tadig", { [flag]: value, from: FROM.de }));
      expect(msg)
        .to.contain(`--${flag}: "${value}" is not a TADIG code`)
        .and.contain("3 upper-case letters and 2 upper-case letters or digits, e.g. DEUD1");
    }
    expect(await message(hre.run("carrier:tadig", { add: "DEUD1", remove: "DEUD2", from: FROM.de }))).to.contain(
      "--add and --remove go one at a time",
    );
    expect(await codesOf(PLMN.DE)).to.deep.equal([]);
  });

  it("names the member that holds a code, and refuses to release a code the member does not hold", async function () {
    await hre.run("carrier:tadig", { add: "DEUD1", from: FROM.de });
    expect(await message(hre.run("carrier:tadig", { add: "DEUD1", from: FROM.br }))).to.contain(
      "--add: TADIG code DEUD1 is held by 262-01 Telekom Deutschland",
    );
    expect(await message(hre.run("carrier:tadig", { add: "DEUD1", from: FROM.de }))).to.contain(
      "--add: TADIG code DEUD1 is held by your member, 262-01",
    );
    expect(await message(hre.run("carrier:tadig", { remove: "DEUD1", from: FROM.br }))).to.contain(
      "--remove: 724-05 does not hold TADIG code DEUD1: 262-01 Telekom Deutschland does",
    );
    expect(await codesOf(PLMN.BR)).to.deep.equal([]);
  });

  it("refuses a key without admin, a device maker and the default account, saying why", async function () {
    await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, 4);
    const noAdmin = await message(hre.run("carrier:tadig", { add: "DEUD1", from: FROM.de2 }));
    expect(noAdmin).to.contain("CarrierRegistryMissingPermission").and.contain("operator:permissions");
    expect(await message(hre.run("carrier:tadig", { add: "ACMEA", from: FROM.maker }))).to.contain("CarrierRegistryMissingRole");
    expect(await message(hre.run("carrier:tadig", { add: "DEUD1" }))).to.contain("set ROAMLEDGER_PROFILE or pass --from");
    expect(await codesOf(PLMN.DE)).to.deep.equal([]);
  });

  it("a suspended member lists its codes (said to be refused in TAP files) but cannot change them", async function () {
    await hre.run("carrier:tadig", { add: "BRAV2", from: FROM.br });
    await hre.run("carrier:propose", { action: "suspend", plmn: "724-05", roles: "carrier", from: FROM.de });
    await hre.run("carrier:vote", { proposal: 1, from: FROM.us });
    expect(await captured(() => hre.run("carrier:tadig", { from: FROM.br }))).to.equal(
      "724-05 holds TADIG code BRAV2 (suspended: TAP files naming them are refused until reinstated).",
    );
    expect(await message(hre.run("carrier:tadig", { add: "BRAV3", from: FROM.br }))).to.contain("CarrierRegistryNotActiveOperator");
    expect(await message(hre.run("carrier:tadig", { remove: "BRAV2", from: FROM.br }))).to.contain("CarrierRegistryNotActiveOperator");
    expect(await codesOf(PLMN.BR)).to.deep.equal(["BRAV2"]);
  });
});
