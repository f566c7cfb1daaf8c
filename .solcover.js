// solidity-coverage (`npm run coverage`, and the gate in .ci/run with scripts/check-coverage.ts).
// Only contracts/ is instrumented: the mocks in test/contracts/ are compiled beside it, never measured.
module.exports = {
  skipFiles: [],
  // html to read, lcov for tools, json-summary for scripts/check-coverage.ts.
  istanbulReporter: ["html", "lcov", "json-summary", "text-summary"],
  mocha: {
    // Gas measurements and 1,000-device transactions: instrumented code costs other gas (their assertions do
    // not hold) and is traced opcode by opcode (a 1,000-device registration takes many minutes). What they
    // exercise, other tests cover. The same for the ledger's caps played in full (2,048 batches, 1,000 spam
    // batches, 256 disputes in one transaction): traced, they take minutes and more than 12 GiB of heap. The
    // rating circuit's witness tests and the toy ceremony exercise no contract of contracts/ (the verifier and
    // the adjudicator are covered by the proof tests on chain).
    grep: /\bgas\b|\bcosts?\b|\bmeasures\b|1,000 devices|2,048 batches|1,000 (spam )?batches|256 disputes in one|at each limit under the cap|circuits\/rating_v1|zk ceremony \(toy/,
    invert: true,
    timeout: 600000,
  },
};
