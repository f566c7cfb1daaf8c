import { expect } from "chai";
import { Progress, type ProgressStream } from "../../../tasks/cli/progress";

class FakeStream implements ProgressStream {
  output = "";
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(text: string): boolean {
    this.output += text;
    return true;
  }
}

describe("tasks/cli/progress", () => {
  let time: number;
  const now = () => time;

  beforeEach(() => {
    time = 1_000_000;
  });

  describe("not on a terminal", () => {
    it("prints a plain line at most every 5 seconds, and one at the end", () => {
      const stream = new FakeStream(false);
      const progress = new Progress({ label: "registering devices", total: 10_000, unit: "devices", stream, now });
      time += 1_000;
      progress.tick(1_000);
      expect(stream.output).to.equal("");
      time += 4_000;
      progress.update(5_000);
      expect(stream.output).to.equal("registering devices: 5,000/10,000 (50%) 1,000 devices/s ETA 5s\n");
      time += 4_999;
      progress.tick(1_000);
      expect(stream.output.split("\n")).to.have.length(2);
      time += 1;
      progress.tick(2_000);
      time += 3_000;
      progress.done("8,000 new, 2,000 already registered");
      expect(stream.output.split("\n")).to.deep.equal([
        "registering devices: 5,000/10,000 (50%) 1,000 devices/s ETA 5s",
        "registering devices: 8,000/10,000 (80%) 800 devices/s ETA 3s",
        "registering devices: 8,000/10,000 (80%) 615 devices/s in 13s - 8,000 new, 2,000 already registered",
        "",
      ]);
      expect(stream.output).to.not.include("\r");
    });

    it("prints nothing after done, and done only once", () => {
      const stream = new FakeStream(false);
      const progress = new Progress({ label: "x", stream, now });
      time += 2_000;
      progress.tick(4);
      progress.done();
      progress.done();
      time += 10_000;
      progress.tick();
      expect(stream.output).to.equal("x: 4 items 2 items/s in 2s\n");
    });

    it("formats long durations", () => {
      const stream = new FakeStream(false);
      const progress = new Progress({ label: "sync", total: 10_000, unit: "rows", stream, now });
      time += 3_600_000 + 125_000;
      progress.done();
      expect(stream.output).to.equal("sync: 0/10,000 (0%) 0 rows/s in 1h 02m\n");
    });
  });

  describe("on a terminal", () => {
    it("redraws one line with a bar, at most every 100 ms", () => {
      const stream = new FakeStream(true, 200);
      const progress = new Progress({ label: "registering devices", total: 10_000, unit: "devices", stream, now });
      time += 50;
      progress.tick(100);
      expect(stream.output).to.equal("");
      time += 3_950;
      progress.update(4_000);
      expect(stream.output).to.equal("\rregistering devices [########............] 4,000/10,000 (40%) 1,000 devices/s ETA 6s\x1b[K");
      time += 99;
      progress.tick();
      expect(stream.output.split("\r")).to.have.length(2);
      time += 1;
      progress.update(10_000);
      progress.done();
      expect(
        stream.output.endsWith("\r" + "registering devices [####################] 10,000/10,000 (100%) 2,439 devices/s in 4s\x1b[K\n"),
      ).to.equal(true);
    });

    it("truncates the line to the terminal width", () => {
      const stream = new FakeStream(true, 20);
      const progress = new Progress({ label: "a rather long label for a narrow terminal", stream, now });
      time += 1_000;
      progress.done();
      expect(stream.output).to.equal("\ra rather long label\x1b[K\n");
    });
  });

  it("prints nothing when disabled", () => {
    const stream = new FakeStream(true, 80);
    const progress = new Progress({ label: "quiet", total: 3, stream, enabled: false, now });
    time += 10_000;
    progress.tick(3);
    progress.done("finished");
    expect(stream.output).to.equal("");
  });
});
