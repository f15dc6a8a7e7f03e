/**
 * Embedded test files of cancel, resources and placement, and observability
 * (timeline, graph, actor calls in the records) run unchanged against a three-node cluster (see
 * _embedded_suite.ts; the tests that count one node's CPUs or read the
 * control store at once are CLUSTER_GAPS).
 */
import { embeddedSuite } from "./_embedded_suite.ts";

embeddedSuite(
  "cancel, scheduling and observability pass their embedded tests on a cluster",
  ["cancel_test.ts", "scheduler_test.ts", "observability_test.ts", "actor_records_test.ts"],
  15,
);
