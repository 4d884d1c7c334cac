// stdin: [{"name", "full", "compact"}] → stdout: the names whose expandTrace(compact) is not exactly `full` (JSON list).
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { expandTrace } from "../../static/js/wire/expand.js";

const bad = [];
for (const { name, full, compact } of JSON.parse(readFileSync(0, "utf8"))) {
  const before = JSON.stringify(compact);
  if (!isDeepStrictEqual(expandTrace(compact), full)) bad.push(name);
  if (JSON.stringify(compact) !== before) bad.push(`${name}: expandTrace changed its input`);
}
process.stdout.write(JSON.stringify(bad));
