// The agreements folder's public surface (see docs/architecture.md, "The library's map").
export * from "./chain";
export * from "./sealed";
export * from "./terms";
export * from "./fullTerms";
export * from "./localTerms";
