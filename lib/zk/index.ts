// Zero-knowledge adjudication: the rating-v1 circuit's encoding and its build.
export * from "./circuit";
export * from "./encoding";
export * from "./prover";
export * from "./ceremony";
export * from "./adjudicator";
export * from "./claim";
export * from "./kit";
