/**
 * The Redis client pin, in one place (an `npm:` specifier so that rayd works
 * when imported from another project).
 *
 * @module
 */
export { createClient } from "npm:redis@6.3.1";
