// The crypto folder's public surface (see docs/architecture.md, "The library's map").
export * from "./aead";
export * from "./commitment";
export * from "./envelope";
export * from "./keys";
export * from "./pairwise";
export * from "./sealed";
