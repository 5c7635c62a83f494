// Runs graphql-http's server audit (GraphQL over HTTP conformance) against the
// endpoint given as the first argument, prints every result, and exits non-zero when
// any MUST fails ("error") or any SHOULD fails ("warn"). MAYs ("notice") are printed
// but do not fail the run.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  let line = `${r.status.padEnd(6)} ${r.id}  ${r.name}`;
  if (r.status !== 'ok') {
    line += `\n         reason: ${r.reason}`;
    if (r.response) line += ` (got HTTP ${r.response.status})`;
  }
  console.log(line);
}
console.log(
  `\n${results.length} audits: ${counts.ok} ok, ${counts.notice} notice, ${counts.warn} warn, ${counts.error} error`,
);
process.exit(counts.warn > 0 || counts.error > 0 ? 1 : 0);
