// A Worker that parses the query it is sent: the package as a Worker imports it.
import { init, parse, RestqlError } from "../../workerd.js";

export default {
  async fetch(request) {
    await init();
    try {
      return Response.json(parse(await request.text()));
    } catch (error) {
      if (!(error instanceof RestqlError)) throw error;
      return Response.json({ code: error.code, line: error.line, column: error.column }, { status: 400 });
    }
  },
};
