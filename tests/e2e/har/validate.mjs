// Validate a HAR file against the HAR 1.2 JSON schema; print one JSON line {ok, errors}.
// Usage: node validate.mjs FILE
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const validator = require("har-validator");

const har = JSON.parse(readFileSync(process.argv[2], "utf8"));
try {
  await validator.har(har);
  console.log(JSON.stringify({ ok: true, errors: [] }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, errors: error.errors ?? [String(error)] }));
  process.exitCode = 1;
}
