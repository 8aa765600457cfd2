// Runs inside Hermes (bundled by esbuild): the react-native build, with Hermes's own globals.
import { init, parse, RestqlError } from "../../react-native.js";

const report = {
  hasWebAssembly: typeof WebAssembly !== "undefined",
};
init()
  .then(() => {
    report.parsed = parse('from hero as h with name = "Ünïcødé 😀"\nfrom sidekick with id = h.id');
    try {
      parse("from hero\nfrom villain with id = ,");
    } catch (e) {
      report.error = {
        isRestqlError: e instanceof RestqlError,
        isError: e instanceof Error,
        code: e.code,
        line: e.line,
        column: e.column,
        message: e.message,
      };
    }
    // A large input makes the pure-JS memory grow: the glue must follow the new buffer.
    const big = "x".repeat(3 * 1024 * 1024);
    try {
      parse(`from hero with q = "${big}"`);
    } catch (e) {
      report.large = e.code;
    }
    report.afterGrowth = parse("from after").statements[0].resource;
  })
  .catch((e) => {
    report.failure = String(e && e.stack ? e.stack : e);
  })
  .then(() => {
    print(JSON.stringify(report));
  });
