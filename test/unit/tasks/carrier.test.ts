import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { PLMN, testEncryptionKey } from "../../helpers/fixtures";
import { tasksOnConsortium, FROM, failureOf as message } from "../../helpers/tasks";
import { readDeployParameters } from "../../../lib/consortium/parameters";
import { Keystore } from "../../../lib/keys/keystore";
import { InputErrors } from "../../../lib/core/errors";

describe("tasks: deploy parameters and carrier governance", function () {
  const t = tasksOnConsortium();

  describe("readDeployParameters", function () {
    it("reads the shipped localhost parameters, taking each carrier's key from its own key store", async function () {
      const accounts = (await hre.ethers.getSigners()).map((s) => s.address);
      const shipped = path.join(hre.config.paths.root, "ignition", "parameters", "localhost.json");
      // The same file with its "keystore:.roamledger/<P>" stores under the test's folder.
      const file = path.join(t.env.dir, "localhost.json");
      fs.writeFileSync(file, fs.readFileSync(shipped, "utf8").replace(/keystore:\.roamledger\//g, `keystore:${t.env.dir}/stores/`));
      for (const plmn of ["262-01", "310-410", "724-05", "999-01"])
        new Keystore(path.join(t.env.dir, "stores", plmn)).ensureEncryptionKey(plmn);
      const ks = new Keystore(path.join(t.env.dir, "stores", "262-01"));
      const p = readDeployParameters(file, accounts, new Keystore()).CarrierRegistry;
      expect(p.bootstrapMembers.map((m) => m.plmn)).to.deep.equal([PLMN.DE, PLMN.US, PLMN.BR, PLMN.MAKER]);
      expect(p.bootstrapMembers[0].encryptionKey).to.equal(ks.encryptionKey("262-01").publicKey);
      expect(p.bootstrapMembers[0].operators).to.deep.equal([accounts[1]]);
      expect(p.bootstrapMembers[3].roles).to.equal(2);
      expect(p.infraAccounts).to.deep.equal([accounts[0]]);
      expect(p.proposalLifetime).to.equal(7 * 24 * 3600);
      expect(readDeployParameters(file, accounts, ks).UsageLedger.submissionGrace).to.equal(3 * 24 * 3600);
    });

    it("reports every problem with its line, and deploys nothing", async function () {
      const file = path.join(t.env.dir, "params.json");
      fs.writeFileSync(
        file,
        [
          "{",
          '  "thresholdBps": 0,',
          '  "submissionGraceDays": 91,',
          '  "members": [',
          '    { "plmn": "26-01", "name": "x", "roles": ["carrier", "governor"], "operators": [1], "encryptionKey": "keystore" },',
          '    { "plmn": "310-410", "name": "", "roles": ["boss"], "operators": ["0x12"], "encryptionKey": "0x04" }',
          "  ]",
          "}",
        ].join("\n"),
      );
      const accounts = (await hre.ethers.getSigners()).map((s) => s.address);
      let caught: unknown;
      try {
        readDeployParameters(file, accounts, new Keystore());
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(InputErrors);
      const msg = (caught as Error).message;
      expect(msg).to.match(/params\.json:2 \(thresholdBps\)/);
      expect(msg).to.match(/params\.json:3 \(submissionGraceDays\)/);
      expect(msg).to.match(/params\.json:5 \(plmn\)/);
      for (const field of ["name", "roles", "operators", "encryptionKey"])
        expect(msg).to.match(new RegExp(`params\\.json:6 \\(${field}\\)`));
      expect(msg).to.contain("nothing was deployed");
    });
  });

  describe("carrier:propose / carrier:vote / carrier:list / carrier:show", function () {
    it("admits a carrier by proposal and vote", async function () {
      const newcomer = t.c.spare[0].address;
      await hre.run("carrier:propose", {
        action: "admit",
        plmn: "234-15",
        name: "Vodafone UK IoT",
        roles: "carrier,governor",
        operators: newcomer,
        key: testEncryptionKey(77),
        from: FROM.de,
      });
      expect(await t.c.carriers.isActive(PLMN.NEWCOMER)).to.equal(false);
      await hre.run("carrier:vote", { proposal: 1, from: FROM.us });
      expect(await t.c.carriers.isActive(PLMN.NEWCOMER)).to.equal(true);
      expect(await t.c.carriers.memberOf(newcomer)).to.equal(PLMN.NEWCOMER);
      await hre.run("carrier:list", {});
      await hre.run("carrier:show", { plmn: "234-15" });
    });

    it("suspends by proposal and vote", async function () {
      await hre.run("carrier:propose", { action: "suspend", plmn: "999-01", roles: "carrier", from: FROM.br });
      await hre.run("carrier:vote", { proposal: 1, from: FROM.de });
      expect(await t.c.carriers.isActive(PLMN.MAKER)).to.equal(false);
    });

    it("explains bad input and refused votes", async function () {
      expect(await message(hre.run("carrier:propose", { action: "expel", plmn: "724-05", roles: "carrier", from: FROM.de }))).to.contain(
        "--action expel is not one of admit, suspend, reinstate",
      );
      expect(await message(hre.run("carrier:propose", { action: "suspend", plmn: "72-405", roles: "carrier", from: FROM.de }))).to.match(
        /--plmn/,
      );
      expect(
        await message(
          hre.run("carrier:propose", {
            action: "admit",
            plmn: "234-15",
            name: "x",
            roles: "carrier",
            operators: t.c.spare[0].address,
            key: "0x02",
            from: FROM.de,
          }),
        ),
      ).to.match(/--key/);
      expect(await message(hre.run("carrier:vote", { proposal: 1, from: FROM.maker }))).to.contain("CarrierRegistryMissingRole");
      await hre.run("carrier:propose", { action: "suspend", plmn: "999-01", roles: "carrier", from: FROM.br });
      expect(await message(hre.run("carrier:vote", { proposal: 1, from: FROM.br }))).to.contain("CarrierRegistryAlreadyApproved");
      expect(await message(hre.run("carrier:show", { plmn: "234-15" }))).to.contain("234-15 is not a member");
    });
  });

  describe("operator:offer / operator:accept / operator:permissions / operator:remove, carrier:propose --action pause|unpause", function () {
    it("offers a key with named permissions, lets it accept, changes its permissions and removes it", async function () {
      const key = t.c.spare[0].address;
      await hre.run("operator:offer", { account: key, permissions: "usage, devices", from: FROM.us });
      expect(await t.c.carriers.operatorOffer(key, PLMN.US)).to.deep.equal([12n, t.c.us.address]);
      await hre.run("operator:accept", { plmn: "310-410", from: "7" });
      expect(await t.c.carriers.operatorPermissions(key)).to.equal(12);
      await hre.run("operator:permissions", { account: key, permissions: "treasury", from: FROM.us });
      expect(await t.c.carriers.operatorPermissions(key)).to.equal(2);
      await hre.run("carrier:show", { plmn: "310-410" });
      await hre.run("operator:remove", { account: key, from: FROM.us });
      expect(await t.c.carriers.memberOf(key)).to.equal("0x000000");
    });

    it("explains bad permissions, a missing offer, a key without admin and the last admin", async function () {
      const key = t.c.spare[0].address;
      expect(await message(hre.run("operator:offer", { account: key, permissions: "usage,root", from: FROM.us }))).to.match(
        /--permissions: permissions must be a non-empty list of admin, treasury, usage, devices/,
      );
      expect(await message(hre.run("operator:offer", { account: "0x12", permissions: "usage", from: FROM.us }))).to.match(/--account/);
      expect(await message(hre.run("operator:accept", { plmn: "310-410", from: "7" }))).to.match(/no pending operator offer from 310-410/);
      await hre.run("operator:permissions", { account: t.c.de2.address, permissions: "usage", from: FROM.de });
      const refused = await message(hre.run("operator:offer", { account: key, permissions: "all", from: FROM.de2 }));
      expect(refused).to.contain("CarrierRegistryMissingPermission").and.to.contain("operator:permissions");
      expect(await message(hre.run("operator:remove", { account: t.c.de.address, from: FROM.de }))).to.contain("CarrierRegistryLastAdmin");
    });

    it("pauses and unpauses the consortium by proposal and vote", async function () {
      await hre.run("carrier:propose", { action: "pause", roles: "carrier", from: FROM.de });
      expect(await t.c.carriers.paused()).to.equal(false);
      await hre.run("carrier:vote", { proposal: 1, from: FROM.us });
      expect(await t.c.carriers.paused()).to.equal(true);
      await hre.run("carrier:list", {});
      await hre.run("carrier:propose", { action: "unpause", roles: "carrier", from: FROM.br });
      await hre.run("carrier:vote", { proposal: 2, from: FROM.de });
      expect(await t.c.carriers.paused()).to.equal(false);
      expect(await message(hre.run("carrier:propose", { action: "pause", plmn: "724-05", roles: "carrier", from: FROM.de }))).to.contain(
        "--plmn does not apply to --action pause",
      );
    });
  });
});
