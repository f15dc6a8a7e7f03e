import assert from "node:assert/strict";
import { parseGraphArgs } from "../../cli/graph.ts";
import { parseListArgs } from "../../cli/list.ts";
import { parseMicrobenchmarkArgs } from "../../cli/microbenchmark.ts";
import { parseStartArgs } from "../../cli/start.ts";
import { parseTimelineArgs } from "../../cli/timeline.ts";
import { CliError } from "../../cli/_command.ts";

/** Asserts that parsing fails as a usage error (exit code 2) whose message matches. */
function rejects(parse: () => unknown, message: RegExp): void {
  assert.throws(parse, (error) => {
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("parseStartArgs() reads every documented head flag", () => {
  const start = parseStartArgs([
    "--head",
    "--port=6380",
    "--redis-address",
    "redis://127.0.0.1:6379",
    "--num-workers",
    "4",
    "--resources",
    '{"GPU": 2}',
    "--token",
    "secret",
    "--dashboard-port",
    "8265",
    "--block",
  ]);
  assert.deepEqual(start, {
    head: true,
    address: undefined,
    port: 6380,
    redisAddress: "redis://127.0.0.1:6379",
    redisPort: undefined,
    numWorkers: 4,
    resources: { GPU: 2 },
    token: "secret",
    dashboardPort: 8265,
    bind: undefined,
    nodeIpAddress: undefined,
    numCpus: undefined,
    objectStoreMemory: undefined,
    healthCheckPeriodMs: undefined,
    healthCheckFailureThreshold: undefined,
    block: true,
    dryRun: false,
  });
});

Deno.test("parseStartArgs() reads a joining node's flags", () => {
  const start = parseStartArgs(["--address", "10.0.0.1:6380", "--num-workers", "1"]);
  assert.equal(start.head, false);
  assert.equal(start.address, "10.0.0.1:6380");
  assert.equal(start.numWorkers, 1);
  assert.equal(start.block, false);
});

Deno.test("parseStartArgs() requires exactly one of --head and --address", () => {
  rejects(() => parseStartArgs([]), /either --head .* or --address/);
  rejects(() => parseStartArgs(["--head", "--address", "h:1"]), /either --head/);
});

Deno.test("parseStartArgs() rejects head-only flags when joining", () => {
  rejects(
    () => parseStartArgs(["--address", "h:1", "--redis-port", "6379"]),
    /--redis-port is only/,
  );
});

Deno.test("parseStartArgs() rejects --redis-address together with --redis-port", () => {
  rejects(
    () => parseStartArgs(["--head", "--redis-address", "redis://h:1", "--redis-port", "2"]),
    /not both/,
  );
});

Deno.test("parseStartArgs() rejects malformed values and names the flag", () => {
  rejects(() => parseStartArgs(["--head", "--port", "70000"]), /--port: expected a port/);
  rejects(() => parseStartArgs(["--head", "--num-workers", "0"]), /--num-workers/);
  rejects(() => parseStartArgs(["--head", "--num-workers", "1.5"]), /--num-workers/);
  rejects(() => parseStartArgs(["--head", "--resources", "{GPU: 1}"]), /--resources/);
  rejects(() => parseStartArgs(["--head", "--resources", '{"GPU": -1}']), /--resources/);
  rejects(() => parseStartArgs(["--head", "--redis-address", "http://h:1"]), /--redis-address/);
  rejects(() => parseStartArgs(["--address", "nohost"]), /--address: expected HOST:PORT/);
});

Deno.test("parseStartArgs() says how to pass a value that starts with a dash", () => {
  rejects(() => parseStartArgs(["--head", "--token", "-abc"]), /--token=-abc/);
  assert.equal(parseStartArgs(["--head", "--token=-abc"]).token, "-abc");
});

Deno.test("parseListArgs() reads the kind, the source and the format", () => {
  assert.deepEqual(parseListArgs(["actors", "--redis-address", "redis://h:6379"]), {
    kind: "actors",
    address: undefined,
    redisAddress: "redis://h:6379",
    format: "table",
    state: undefined,
    limit: undefined,
  });
  assert.equal(parseListArgs(["nodes", "--address", "h:1", "--format", "json"]).format, "json");
  const filtered = parseListArgs(["tasks", "--state", "FAILED", "--limit", "5"]);
  assert.equal(filtered.state, "failed");
  assert.equal(filtered.limit, 5);
  rejects(() => parseListArgs(["tasks", "--limit", "0"]), /--limit: expected a whole number/);
});

Deno.test("parseListArgs() rejects a missing or unknown kind and a bad format", () => {
  rejects(() => parseListArgs([]), /missing what to list: expected nodes \| workers/);
  rejects(() => parseListArgs(["jobs"]), /cannot list "jobs"/);
  rejects(() => parseListArgs(["nodes", "--format", "xml"]), /--format: expected table \| json/);
  rejects(
    () => parseListArgs(["nodes", "--address", "h:1", "--redis-address", "redis://h:2"]),
    /not both/,
  );
});

Deno.test("parseGraphArgs() picks the format from the output file's extension", () => {
  assert.deepEqual(parseGraphArgs([]), { format: "dot" });
  assert.deepEqual(parseGraphArgs(["-o", "g.SVG"]), { output: "g.SVG", format: "svg" });
  assert.deepEqual(parseGraphArgs(["--output", "g.dot"]), { output: "g.dot", format: "dot" });
  rejects(() => parseGraphArgs(["-o", "g.png"]), /expected a \.svg or \.dot file/);
});

Deno.test("parseTimelineArgs() reads -o and --output", () => {
  assert.deepEqual(parseTimelineArgs([]), { output: undefined });
  assert.equal(parseTimelineArgs(["--output", "t.json"]).output, "t.json");
  rejects(() => parseTimelineArgs(["t.json"]), /unexpected argument: t\.json/);
});

Deno.test("parseMicrobenchmarkArgs() reads --json, --filter and --quick", () => {
  const bench = parseMicrobenchmarkArgs(["--json", "--quick", "--filter", "^1_1_actor"]);
  assert.equal(bench.json, true);
  assert.equal(bench.quick, true);
  assert.ok(bench.filter?.test("1_1_actor_calls_sync"));
  rejects(() => parseMicrobenchmarkArgs(["--filter", "("]), /invalid value for --filter/);
});
