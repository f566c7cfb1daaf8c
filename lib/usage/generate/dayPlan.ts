/** One day's planned records: device, second of the day and kind of each, in growing typed arrays. */
export class DayPlan {
  device = new Uint32Array(1 << 16);
  time = new Uint32Array(1 << 16);
  kind = new Uint8Array(1 << 16);
  count = 0;

  add(device: number, time: number, kind: number): void {
    if (this.count === this.device.length) this.grow();
    this.device[this.count] = device;
    this.time[this.count] = time;
    this.kind[this.count] = kind;
    this.count++;
  }

  /** Indices of the planned records in time order (ties in plan order). */
  inTimeOrder(): Float64Array {
    const order = new Float64Array(this.count);
    for (let e = 0; e < this.count; e++) order[e] = this.time[e] * 2 ** 26 + e;
    return order.sort().map((key) => key % 2 ** 26);
  }

  private grow(): void {
    const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.device = grow(this.device);
    this.time = grow(this.time);
    this.kind = grow(this.kind);
  }
}
