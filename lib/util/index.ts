// The util folder's public surface (see docs/architecture.md, "The library's map").
export * from "./csv";
export * from "./fsAtomic";
export * from "./hex";
export * from "./json";
export * from "./jsonSchema";
export * from "./progress";
