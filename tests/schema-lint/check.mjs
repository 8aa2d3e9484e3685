#!/usr/bin/env node
// The committed schema (schema.graphql, which tests/e2e/schema.rs keeps equal to the served
// one) as a frontend's tools read it: graphql-js builds and validates it, and it has the
// Relay Node interface with node(id:) and nodes(ids:). graphql-schema-linter then checks
// Relay's connection, argument and PageInfo conventions (run by .ci/schema-lint).
import { readFileSync } from 'node:fs';
import { buildSchema, validateSchema, isInterfaceType, isNonNullType, isListType } from 'graphql';

const file = process.argv[2] ?? '../../schema.graphql';
const schema = buildSchema(readFileSync(file, 'utf8'));
const errors = validateSchema(schema);
const problems = errors.map((e) => `validateSchema: ${e.message}`);

const node = schema.getType('Node');
if (!isInterfaceType(node)) problems.push('no Node interface');
else if (!node.getFields().id) problems.push('Node has no id field');
const query = schema.getQueryType().getFields();
if (!query.node || query.node.args.map((a) => a.name).join() !== 'id') problems.push('no Query.node(id:)');
if (!query.nodes || !query.nodes.args.some((a) => a.name === 'ids')) problems.push('no Query.nodes(ids:)');
else if (!isNonNullType(query.nodes.type) || !isListType(query.nodes.type.ofType)) problems.push('Query.nodes is not a list');

if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
const implementers = schema.getImplementations(node).objects.map((t) => t.name);
console.log(`schema ok: ${Object.keys(schema.getTypeMap()).length} types, Node implemented by ${implementers.join(', ')}`);
