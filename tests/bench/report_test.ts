import assert from "node:assert/strict";
import {
  addRatios,
  markdownTable,
  type MetricResult,
  textRow,
} from "../../scripts/bench/_report.ts";

const LIMIT = "limit_tcp_loopback_gigabytes";
const TRANSFER = "cluster_object_transfer_gigabytes";

function measured(value: number) {
  return { value, min: value, max: value, runs: 1, samples: [value], unit: "GB/s" };
}

Deno.test("addRatios() divides the two medians when the limit was timed on its own", () => {
  const results: Record<string, MetricResult> = { [LIMIT]: measured(4), [TRANSFER]: measured(2) };
  addRatios(results);
  assert.deepEqual((results[TRANSFER] as { ratios?: unknown }).ratios, { [LIMIT]: 0.5 });
});

Deno.test("addRatios() takes the median pair ratio of a limit timed in turn with the metric", () => {
  const paired = { ...measured(3), pairRatios: [0.9, 0.7, 0.8], ratio: 0.8 };
  const results: Record<string, MetricResult> = {
    [LIMIT]: measured(10), // timed 30 s earlier on another machine state: not used
    [TRANSFER]: { ...measured(2), paired: { [LIMIT]: paired } },
  };
  addRatios(results);
  const transfer = results[TRANSFER] as { ratios?: Record<string, number> };
  assert.deepEqual(transfer.ratios, { [LIMIT]: 0.8 });
  assert.match(
    textRow(TRANSFER, results[TRANSFER]),
    /0\.80x limit_tcp_loopback_gigabytes \(paired, 3 pairs 0\.70 \.\. 0\.90; limit 3\)/,
  );
  const table = markdownTable({ machine: {} as never, results }, [TRANSFER]);
  assert.match(
    table,
    /limit_tcp_loopback_gigabytes: 3 GB\/s \(timed in turn with it\) \| 0\.80x \(paired, 3 pairs 0\.70 \.\. 0\.90\)/,
  );
});
