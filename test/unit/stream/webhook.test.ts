import { expect } from "chai";
import { alertId, WebhookSender, webhookUrl } from "../../../lib/watch/webhook";
import type { WatchEvent } from "../../../lib/watch/types";
import { receiver } from "../../helpers/webhook";

const event = (block: number): WatchEvent => ({
  kind: "fraud-flag",
  block,
  txHash: `0x${String(block).padStart(64, "0")}`,
  as: "home",
  text: `device flagged in block ${block}`,
  data: { device: "0xabc", reporter: "724-05" },
});

describe("watch --webhook: WebhookSender", function () {
  this.timeout(20_000);

  it("retries a failing receiver with exponential backoff until it takes the alert, same id each time", async function () {
    const r = await receiver((n) => (n <= 3 ? 503 : 204));
    try {
      const hook = new WebhookSender(r.url, { baseDelayMs: 100, attempts: 6 });
      const timers = () => process.getActiveResourcesInfo().filter((t) => t === "Timeout").length;
      const before = timers();
      hook.send(event(7));
      expect(await hook.drain(10_000)).to.equal(true);
      // at most: a timer of an earlier test may end meanwhile; a left drain timer adds one
      expect(timers(), "drain leaves no timer behind (it would hold the process open)").to.be.at.most(before);
      expect(r.got).to.have.length(4);
      expect(hook.stats).to.deep.equal({ delivered: 1, failed: 0, dropped: 0, retries: 3 });
      const ids = new Set(r.got.map((g) => g.body.id));
      expect(ids.size).to.equal(1);
      expect(r.got.every((g) => g.key === g.body.id)).to.equal(true);
      expect(r.got[3].body).to.include({ block: 7, kind: "fraud-flag", text: "device flagged in block 7" });
      // Waits of about 100, 200, 400 ms: each at least the last one doubled, less scheduling slack.
      const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i].at);
      expect(gaps[0]).to.be.at.least(90);
      expect(gaps[1]).to.be.at.least(190);
      expect(gaps[2]).to.be.at.least(390);
    } finally {
      await r.close();
    }
  });

  it("gives up after its tries, logs it, never blocks the sender, and goes on with the next alert in order", async function () {
    // Alert 1 always fails; alert 2 goes through.
    const r = await receiver((_n, body) => (body.block === 1 ? 500 : 200));
    try {
      const lines: string[] = [];
      const hook = new WebhookSender(r.url, { baseDelayMs: 20, attempts: 3, log: (l) => lines.push(l) });
      const t0 = Date.now();
      hook.send(event(1));
      hook.send(event(2));
      expect(Date.now() - t0, "send returns at once").to.be.below(50);
      expect(await hook.drain(5000)).to.equal(true);
      expect(lines.join("\n")).to.match(/gave up on the alert of block 1 .*HTTP 500/);
      expect(hook.stats.failed).to.equal(1);
      expect(hook.stats.delivered).to.equal(1);
      expect(r.got.map((g) => g.body.block)).to.deep.equal([1, 1, 1, 2]);
    } finally {
      await r.close();
    }
  });

  it("does not retry a 4xx other than 408/429, and survives a receiver that is not there", async function () {
    const r = await receiver(() => 400);
    const lines: string[] = [];
    try {
      const hook = new WebhookSender(r.url, { baseDelayMs: 10, attempts: 5, log: (l) => lines.push(l) });
      hook.send(event(3));
      await hook.drain(5000);
      expect(r.got).to.have.length(1);
    } finally {
      await r.close();
    }
    const gone = new WebhookSender(r.url, { baseDelayMs: 10, attempts: 2, log: (l) => lines.push(l) });
    gone.send(event(4));
    expect(await gone.drain(5000)).to.equal(true);
    expect(gone.stats.failed).to.equal(1);
    expect(lines.at(-1)).to.match(/gave up on the alert of block 4/);
  });

  it("bounds its queue, dropping the oldest with a log line", async function () {
    const lines: string[] = [];
    const hook = new WebhookSender(new URL("http://127.0.0.1:9/"), { attempts: 1, maxQueue: 2, log: (l) => lines.push(l) });
    for (let b = 1; b <= 5; b++) hook.send(event(b));
    expect(hook.stats.dropped).to.be.at.least(1);
    expect(lines.some((l) => /queue full/.test(l))).to.equal(true);
    await hook.drain(5000);
  });

  it("checks the URL and gives stable alert ids", function () {
    expect(() => webhookUrl("not a url")).to.throw(/not a URL/);
    expect(() => webhookUrl("ftp://x/")).to.throw(/not http or https/);
    expect(webhookUrl("https://alerts.example/roam").host).to.equal("alerts.example");
    expect(alertId(event(5))).to.equal(alertId(event(5)));
    expect(alertId(event(5))).to.not.equal(alertId(event(6)));
  });
});
