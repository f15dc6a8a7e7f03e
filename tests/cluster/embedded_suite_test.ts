/**
 * Embedded test files of remote functions, nested tasks and reference
 * counting run unchanged against a three-node cluster (see
 * _embedded_suite.ts).
 */
import { embeddedSuite } from "./_embedded_suite.ts";

embeddedSuite(
  "remote functions, nested tasks and reference counting pass their embedded tests on a cluster",
  ["remote_functions_test.ts", "nested_tasks_test.ts", "reference_counting_test.ts"],
  27,
);
