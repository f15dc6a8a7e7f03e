/** The Piscina pin, in one place (a direct `npm:` specifier: the project has no import map entries). */
export { Piscina } from "npm:piscina@5.3.2";
