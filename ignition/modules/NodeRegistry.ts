import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";

/** The members' Besu nodes (enode URLs), read by `besu:permissions`; membership is the CarrierRegistry's. */
export default buildModule("NodeRegistry", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const nodeRegistry = m.contract("NodeRegistry", [carrierRegistry]);
  return { nodeRegistry };
});
