/** A local node with RoamLedger for CLI runs as subprocesses (test/unit/cli.test.ts, the bench's cli part). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SigningKey } from "ethers";
import { deployDeBr, devWallets, startNode, type CrashNode } from "./crash";
import { ingestTerms } from "./ingest";
import { writeDeploymentFile } from "./tasks";

export interface CliWorld {
  node: CrashNode;
  /** Points `--network localhost` at the node and its deployment, with an empty key store. */
  env: NodeJS.ProcessEnv;
  /** Stops the node and removes the world's folder. */
  stop(): Promise<void>;
}

/** anvil with RoamLedger deployed (DE 262-01 and BR 724-05 members, their agreement accepted). */
export async function cliWorld(): Promise<CliWorld> {
  const node = await startNode({ mining: "auto" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-cli-"));
  const { provider, wallets } = devWallets(node.url);
  try {
    const de = new SigningKey(`0x${"11".repeat(32)}`);
    const br = new SigningKey(`0x${"22".repeat(32)}`);
    const { addresses } = await deployDeBr(
      { deployer: wallets[0], de: wallets[1], br: wallets[2] },
      { de: de.compressedPublicKey, br: br.compressedPublicKey, dePrivateKey: de.privateKey as `0x${string}` },
      (token) => ingestTerms(Math.floor(Date.now() / 1000) - 86_400, token),
    );
    const file = path.join(dir, "deployed_addresses.json");
    writeDeploymentFile(file, addresses);
    const env = { ...process.env, ROAMLEDGER_RPC_URL: node.url, ROAMLEDGER_DEPLOYMENT: file, ROAMLEDGER_HOME: path.join(dir, "home") };
    return {
      node,
      env,
      stop: async () => {
        await node.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    provider.destroy();
  }
}
