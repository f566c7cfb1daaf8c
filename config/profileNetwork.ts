import fs from "node:fs";
import path from "node:path";

/**
 * The project root as Hardhat finds it: the nearest folder from `from` up that holds a Hardhat config (the
 * config's real location may differ, e.g. a linked copy of the repository).
 */
export function projectRootFrom(from: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (["hardhat.config.js", "hardhat.config.cjs", "hardhat.config.ts"].some((f) => fs.existsSync(path.join(dir, f)))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/**
 * The network the active carrier profile makes Hardhat's default (`defaultNetwork`), read at config load by
 * both starts: the profile `ROAMLEDGER_PROFILE` names, else the only profile of the profiles file
 * (`$ROAMLEDGER_CONFIG`, default `roamledger.json` in the project root). Only `fs` and a JSON parse, so that the
 * fast start stays fast; it never throws: a bad profiles file is reported, with its line, by the first task that
 * uses the profile (tasks/cli/profile.ts).
 */
export function profileNetwork(root: string): string | undefined {
  const file = path.resolve(root, process.env.ROAMLEDGER_CONFIG?.trim() || "roamledger.json");
  let profiles: Record<string, { network?: unknown }>;
  try {
    profiles = JSON.parse(fs.readFileSync(file, "utf8")).profiles;
  } catch {
    return undefined;
  }
  if (typeof profiles !== "object" || profiles === null) return undefined;
  const chosen = process.env.ROAMLEDGER_PROFILE?.trim();
  const names = Object.keys(profiles);
  const profile = chosen ? profiles[chosen] : names.length === 1 ? profiles[names[0]] : undefined;
  return typeof profile?.network === "string" && profile.network.trim() !== "" ? profile.network : undefined;
}
