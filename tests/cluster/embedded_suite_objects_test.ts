/**
 * Embedded test files of objects (put, get, wait, refs), values and task
 * errors run unchanged against a three-node cluster (see _embedded_suite.ts).
 */
import { embeddedSuite } from "./_embedded_suite.ts";

embeddedSuite(
  "objects, values and task errors pass their embedded tests on a cluster",
  ["objects_test.ts", "serialization_test.ts", "task_errors_test.ts"],
  40,
);
