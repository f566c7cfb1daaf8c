import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";

/** The device registry; it deploys the DevicePolicy implementation its clones delegate to. */
export default buildModule("DeviceRegistry", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const deviceRegistry = m.contract("DeviceRegistry", [carrierRegistry, roamingAgreements]);
  return { deviceRegistry };
});
