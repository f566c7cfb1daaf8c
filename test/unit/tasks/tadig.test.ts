import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { addressesOf, PLMN, testEncryptionKey, type Consortium } from "../../helpers/fixtures";
import { captured, FROM, failureOf as message, tasksOnConsortium } from "../../helpers/tasks";
import { plmnOfTadig, tadigCodesOf, tadigToBytes5 } from "../../../lib/consortium/tadig";
import { readDeployParameters } from "../../../lib/consortium/parameters";
import { Keystore } from "../../../lib/keys/keystore";
import { connectRoamLedger } from "../../../lib/chain/client";

describe("tasks: carrier:tadig, and TADIG codes in carrier:show / carrier:list", function () {
  const t = tasksOnConsortium();

  const codesOf = async (plmn: string) => tadigCodesOf(connectRoamLedger(await addressesOf(t.c), t.c.outsider), plmn as `0x${string}`);

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
    expect(await plmnOfTadig(connectRoamLedger(await addressesOf(t.c), t.c.outsider), "DEUD1")).to.equal(PLMN.BR);
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
    await t.c.carriers.connect(t.c.de).setOperatorPermissions(t.c.de2.address, 4);
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

describe("deploy: the members' TADIG codes", function () {
  const t = tasksOnConsortium();

  /** A parameters file of DE (account 1) and a maker (account 4), with `extra` members and DE's `tadig`. */
  function parametersFile(de: Record<string, unknown>, extra: object[] = []): string {
    const file = path.join(t.env.dir, "params.json");
    const members = [
      { plmn: "262-01", name: "DE", roles: ["carrier", "governor"], operators: [1], encryptionKey: testEncryptionKey(1), ...de },
      { plmn: "999-01", name: "Maker", roles: ["device-maker"], operators: [4], encryptionKey: testEncryptionKey(4) },
      ...extra,
    ];
    fs.writeFileSync(file, `${JSON.stringify({ infraAccounts: [0], members }, null, 2)}\n`);
    return file;
  }

  const accounts = async () => (await hre.ethers.getSigners()).map((s) => s.address);

  it("reads each carrier's codes beside the Ignition parameters (which do not carry them)", async function () {
    const us = { plmn: "310-410", name: "US", roles: ["carrier"], operators: [2], encryptionKey: testEncryptionKey(2) };
    const p = readDeployParameters(parametersFile({ tadig: ["DEUD1", "DEUD2"] }, [us]), await accounts(), new Keystore());
    expect(p.tadig).to.deep.equal([{ plmn: PLMN.DE, codes: ["DEUD1", "DEUD2"], operators: [(await accounts())[1]] }]);
    expect(p.CarrierRegistry.bootstrapMembers[0]).to.not.have.property("tadig");
  });

  it("the shipped localhost parameters give each carrier a code and the device maker none", async function () {
    const shipped = JSON.parse(fs.readFileSync(path.join(hre.config.paths.root, "ignition", "parameters", "localhost.json"), "utf8"));
    const codes = Object.fromEntries(shipped.members.map((m: { plmn: string; tadig?: string[] }) => [m.plmn, m.tadig]));
    expect(codes).to.deep.equal({ "262-01": ["DEUD1"], "310-410": ["USACG"], "724-05": ["BRAV2"], "999-01": undefined });
  });

  it("refuses a malformed code, a code given twice, more than 16, and codes of a device maker, with their lines", async function () {
    const cases: [Record<string, unknown>, object[], RegExp][] = [
      [{ tadig: ["deud1"] }, [], /params\.json:\d+ \(tadig\): "deud1" is not a TADIG code/],
      [{ tadig: "DEUD1" }, [], /params\.json:\d+ \(tadig\): optional list of the carrier's TADIG codes/],
      [{ tadig: Array.from({ length: 17 }, (_, i) => `DEU${String(i).padStart(2, "0")}`) }, [], /\(tadig\): optional list/],
      [{ tadig: ["DEUD1", "DEUD1"] }, [], /params\.json:\d+ \(tadig\): TADIG code DEUD1 is given to 262-01 already/],
      [
        { tadig: ["DEUD1"] },
        [
          {
            plmn: "310-410",
            name: "US",
            roles: ["carrier"],
            operators: [2],
            encryptionKey: testEncryptionKey(2),
            tadig: ["USACG", "DEUD1"],
          },
        ],
        /params\.json:\d+ \(tadig\): TADIG code DEUD1 is given to 262-01 already/,
      ],
      [
        {},
        [{ plmn: "999-02", name: "M2", roles: ["device-maker"], operators: [5], encryptionKey: testEncryptionKey(5), tadig: ["ACMEA"] }],
        /\(tadig\): only a carrier member holds TADIG codes; 999-02 is not one/,
      ],
    ];
    for (const [de, extra, expected] of cases) {
      const file = parametersFile(de, extra);
      const msg = await message(Promise.resolve().then(async () => readDeployParameters(file, await accounts(), new Keystore())));
      expect(msg, JSON.stringify(de)).to.match(expected).and.contain("nothing was deployed");
    }
  });

  it("registers the codes from each carrier's operator account after admission", async function () {
    const us = {
      plmn: "310-410",
      name: "US",
      roles: ["carrier", "governor"],
      operators: [2],
      encryptionKey: testEncryptionKey(2),
      tadig: ["USACG"],
    };
    const file = parametersFile({ tadig: ["DEUD1", "DEUD2"] }, [us]);
    const printed = await captured(() => hre.run("deploy", { parameters: file, deploymentId: "tadig-test" }));
    expect(printed).to.contain(
      "TADIG codes (each carrier's operator account registers its own):\n  262-01   DEUD1, DEUD2\n  310-410  USACG",
    );
    const registry = /carrierRegistry\s+(0x[0-9a-fA-F]{40})/.exec(printed)?.[1] as string;
    const carriers = (await hre.ethers.getContractAt("CarrierRegistry", registry)) as unknown as Consortium["carriers"];
    expect(await carriers.plmnOfTadig(tadigToBytes5("DEUD2"))).to.equal(PLMN.DE);
    expect(await carriers.plmnOfTadig(tadigToBytes5("USACG"))).to.equal(PLMN.US);
    expect(await carriers.tadigCodesOf(PLMN.DE)).to.deep.equal([tadigToBytes5("DEUD1"), tadigToBytes5("DEUD2")]);
    // A re-run of deploy on a real network finds its deployment and keeps the codes the members hold
    // (ensureTadigCodes, test/unit/lib/tadig.test.ts); the in-process network keeps no deployment to re-run.
  });

  it("prints the line a carrier runs when its operator is not an account of the network", async function () {
    const outside = Wallet.createRandom().address;
    const file = parametersFile({ operators: [outside], tadig: ["DEUD1"] }, [
      { plmn: "310-410", name: "US", roles: ["carrier", "governor"], operators: [2], encryptionKey: testEncryptionKey(2) },
    ]);
    const printed = await captured(() => hre.run("deploy", { parameters: file, deploymentId: "tadig-test-outside" }));
    expect(printed).to.contain("  262-01   DEUD1: to register from its admin key, not an account of this network:");
    expect(printed).to.contain(`    npx hardhat carrier:tadig --add DEUD1 --from ${outside}`);
  });
});
