/** The msgpackr pin, in one place (an `npm:` specifier so that rayd works when imported from another project). */
export { addExtension, Packr } from "npm:msgpackr@2.1.4";
