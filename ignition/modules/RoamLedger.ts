import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";
import DeviceRegistryModule from "./DeviceRegistry";
import UsageLedgerModule from "./UsageLedger";
import SettlementEscrowModule from "./SettlementEscrow";
import NodeRegistryModule from "./NodeRegistry";

/** All of RoamLedger, in dependency order. `npx hardhat deploy` runs this module. */
export default buildModule("RoamLedger", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { deviceRegistry } = m.useModule(DeviceRegistryModule);
  const { usageLedger } = m.useModule(UsageLedgerModule);
  const { settlementEscrow } = m.useModule(SettlementEscrowModule);
  const { nodeRegistry } = m.useModule(NodeRegistryModule);
  return { carrierRegistry, roamingAgreements, deviceRegistry, usageLedger, settlementEscrow, nodeRegistry };
});
