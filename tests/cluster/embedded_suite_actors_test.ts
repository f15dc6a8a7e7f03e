/**
 * Embedded test files of actors (create, call, names, getActor, kill,
 * lifetimes) run unchanged against a three-node cluster (see
 * _embedded_suite.ts).
 */
import { embeddedSuite } from "./_embedded_suite.ts";

embeddedSuite(
  "actors pass their embedded tests on a cluster",
  ["actors_test.ts", "actor_lifetime_test.ts"],
  25,
);
