import hre from "hardhat";
const p = hre.network.provider as any;
const stats = new Map<string, [number, number]>();
for (const m of ["send", "request"]) {
  const orig = p[m].bind(p);
  p[m] = async (...a: any[]) => {
    const method = m === "send" ? a[0] : a[0].method;
    const t = performance.now();
    try {
      return await orig(...a);
    } finally {
      const s = stats.get(method) ?? [0, 0];
      s[0]++;
      s[1] += performance.now() - t;
      stats.set(method, s);
    }
  };
}
after(() => {
  console.log(
    [...stats]
      .sort((a, b) => b[1][1] - a[1][1])
      .map(([k, [n, ms]]) => `${k} ${n} ${ms.toFixed(0)}ms`)
      .join("\n"),
  );
});
