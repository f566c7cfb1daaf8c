import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";
import UsageLedgerModule from "./UsageLedger";

/**
 * The settlement escrow, bound to the consortium's CarrierRegistry, RoamingAgreements and UsageLedger
 * (the same futures as in the RoamLedger module): it invoices the ledger's closed periods.
 */
export default buildModule("SettlementEscrow", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { usageLedger } = m.useModule(UsageLedgerModule);
  const settlementEscrow = m.contract("SettlementEscrow", [carrierRegistry, roamingAgreements, usageLedger]);
  return { settlementEscrow };
});
