import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";

/**
 * Bilateral roaming agreements between member carriers. No parameters of its own: it is bound to the
 * consortium's CarrierRegistry, which authorizes every caller.
 */
export default buildModule("RoamingAgreements", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const roamingAgreements = m.contract("RoamingAgreements", [carrierRegistry]);
  return { roamingAgreements };
});
