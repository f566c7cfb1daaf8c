import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";
import DeviceRegistryModule from "./DeviceRegistry";

/** All of RoamLedger, in dependency order. `npx hardhat deploy` runs this module. */
export default buildModule("RoamLedger", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { deviceRegistry } = m.useModule(DeviceRegistryModule);
  return { carrierRegistry, roamingAgreements, deviceRegistry };
});
