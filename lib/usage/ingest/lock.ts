import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../../core/errors";
import { processAlive } from "../../util/fsAtomic";

/** The lock of a pair's work folder: runs of one partner pair are strictly one after the other. */
export class Lock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string, command = "usage:ingest"): Lock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: "wx" });
        return new Lock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number(fs.readFileSync(file, "utf8"));
        if (pid && pid !== process.pid && processAlive(pid)) {
          throw new ConfigError(`another ${command} (process ${pid}) is working on ${dir}`, {
            hint: "wait for it to finish; runs of one partner pair are strictly one after the other.",
          });
        }
        fs.rmSync(file, { force: true }); // a dead run's lock
      }
    }
    throw new ConfigError(`cannot lock ${dir}`, { hint: "remove the stale `lock` file there." });
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}
