// The besu folder's public surface (see docs/architecture.md, "The library's map").
export * from "./extraData";
export * from "./genesis";
export * from "./network";
export * from "./permissions";
