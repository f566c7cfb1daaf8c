// The flat TOML reader moved to lib/besu/toml.ts (besu:genesis checks what it writes with it).
export { type FlatTomlValue, parseFlatToml } from "../../lib/besu/toml";
