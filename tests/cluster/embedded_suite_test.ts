/**
 * Embedded test files of remote functions and nested tasks run unchanged
 * against a three-node cluster (see _embedded_suite.ts).
 */
import { embeddedSuite } from "./_embedded_suite.ts";

embeddedSuite(
  "remote functions and nested tasks pass their embedded tests on a cluster",
  ["remote_functions_test.ts", "nested_tasks_test.ts"],
  20,
);
