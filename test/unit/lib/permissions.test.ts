import { expect } from "chai";
import { InputError } from "../../../lib/core/errors";
import { ALL_PERMISSIONS, PERMISSION_BITS, parsePermissions, permissionNames } from "../../../lib/core/roles";
import { operatorAddress } from "../../../lib/consortium/operators";

describe("lib/core/roles: operator permissions", function () {
  it("parses names, lists and all into bits, and names bits back", function () {
    expect(parsePermissions("usage,devices", { param: "permissions" })).to.equal(PERMISSION_BITS.usage | PERMISSION_BITS.devices);
    expect(parsePermissions(" Treasury ", { param: "permissions" })).to.equal(PERMISSION_BITS.treasury);
    expect(parsePermissions(["admin"], {})).to.equal(PERMISSION_BITS.admin);
    expect(parsePermissions("all", {})).to.equal(ALL_PERMISSIONS);
    expect(ALL_PERMISSIONS).to.equal(15);
    expect(permissionNames(12n)).to.equal("usage, devices");
    expect(permissionNames(0)).to.equal("none");
  });

  it("refuses an empty list, an unknown name or a non-list, saying where", function () {
    for (const bad of ["", "usage,root", "usage,,devices", [], [1], 7]) {
      expect(() => parsePermissions(bad, { param: "permissions" }), JSON.stringify(bad))
        .to.throw(InputError)
        .with.property("location")
        .that.deep.equals({ param: "permissions" });
    }
  });

  it("checks an operator address", function () {
    expect(operatorAddress("0x000000000000000000000000000000000000dead")).to.equal("0x000000000000000000000000000000000000dEaD");
    expect(() => operatorAddress("0x12")).to.throw(InputError, /is not an account address/);
  });
});
