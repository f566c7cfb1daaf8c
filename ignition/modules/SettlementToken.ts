import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** The development settlement token (dev and test networks only); minted by the deployer. */
export default buildModule("SettlementToken", (m) => {
  const settlementToken = m.contract("SettlementToken", [m.getAccount(0)]);
  return { settlementToken };
});
