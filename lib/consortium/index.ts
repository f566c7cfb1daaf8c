// The consortium folder's public surface (see docs/architecture.md, "The library's map").
export * from "./parameters";
export * from "./operators";
export * from "./tadig";
export * from "./nodes";
