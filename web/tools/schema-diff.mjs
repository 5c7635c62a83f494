// A second opinion on a schema change, from @graphql-inspector/core: prints the changes
// between two SDL files as JSON lines ({"criticality", "type", "message"}). The Go test
// of graph/internal/schemacheck checks its own verdicts agree with this one.
//
// usage: node tools/schema-diff.mjs <released.graphqls> <current.graphqls>
import fs from 'node:fs';
import { buildSchema } from 'graphql';
import { diff } from '@graphql-inspector/core';

const [released, current] = process.argv.slice(2).map((file) => buildSchema(fs.readFileSync(file, 'utf8')));
for (const change of await diff(released, current)) {
  console.log(JSON.stringify({ criticality: change.criticality.level, type: change.type, message: change.message }));
}
