import assert from "node:assert/strict";
import { formatStats, markdownTable, summarize } from "./stats.ts";

Deno.test("summarize: min, median (odd and even counts), max", () => {
  assert.deepEqual(
    { ...summarize([5, 1, 3]), samples: [] },
    { min: 1, median: 3, max: 5, samples: [] },
  );
  assert.equal(summarize([4, 1, 3, 2]).median, 2.5);
  assert.throws(() => summarize([]), /no timings/);
  assert.equal(
    formatStats(summarize([1234.4, 12.34, 1.234])),
    "1.23 / 12.3 / 1234",
  );
});

Deno.test("markdownTable pads columns", () => {
  assert.equal(
    markdownTable([["a", "bb"], ["ccc", "d"]]),
    "| a   | bb |\n|-----|----|\n| ccc | d  |",
  );
});
