// The OpenAPI document (transport/web/openapi.json) against real answers of
// the server: the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-
// validator, the OpenAPI Initiative's meta-schema), every schema in it
// compiles under Ajv's strict mode, and every answer that
// openapi_answer_recorder recorded from the real binary has a documented
// status, content type, required headers and a body that its JSON Schema
// (2020-12, Ajv) accepts, and every request body the server accepted matches
// the documented request schema. Every documented answer of a served route
// (each status, and each error code) must have been recorded, but for the
// lines of not_yet_served.txt and 500 internal_error, which no request can
// provoke.
//
//   SBD_OPENAPI_DOCUMENT=transport/web/openapi.json \
//   SBD_OPENAPI_ANSWERS=answers.json node --test openapi.test.mjs
//
// run.sh (ctest openapi_answers) records the answers and runs this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';

const here = path.dirname(fileURLToPath(import.meta.url));
const documentPath = process.env.SBD_OPENAPI_DOCUMENT;
const answersPath = process.env.SBD_OPENAPI_ANSWERS;
assert.ok(documentPath && answersPath, 'set SBD_OPENAPI_DOCUMENT and SBD_OPENAPI_ANSWERS (see run.sh)');

const documentText = readFileSync(documentPath, 'utf8');
const document = JSON.parse(documentText);
const recorded = JSON.parse(readFileSync(answersPath, 'utf8'));

// The HTTP methods a Path Item Object may hold.
const kMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// 500 internal_error is a bug's answer: documented, never provoked.
const kUnprovokable = new Set(['500']);

// not_yet_served.txt: "METHOD PATH" (a route) and "METHOD PATH STATUS" (an
// answer) lines.
const notYetRoutes = new Set();
const notYetAnswers = new Set();
for (const raw of readFileSync(path.join(here, 'not_yet_served.txt'), 'utf8').split('\n')) {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) continue;
  const fields = line.split(/\s+/);
  assert.ok(fields.length === 2 || fields.length === 3, `not_yet_served.txt: bad line "${line}"`);
  (fields.length === 2 ? notYetRoutes : notYetAnswers).add(fields.join(' '));
}

// ------------------------------------------------------------ the document

// A JSON pointer's token.
const escape = (token) => String(token).replaceAll('~', '~0').replaceAll('/', '~1');
const pointer = (...tokens) => `#/${tokens.map(escape).join('/')}`;

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `only local references: ${ref}`);
  let node = document;
  for (const token of ref.slice(2).split('/')) {
    node = node?.[token.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  assert.ok(node !== undefined, `dangling reference ${ref}`);
  return node;
}

// A Response Object and the pointer of the object itself (past its $ref).
function responseAt(responsePointer) {
  let at = responsePointer;
  let response = resolve(at);
  while (response.$ref) {
    at = response.$ref;
    response = resolve(at);
  }
  return { at, response };
}

// The error codes a response's JSON body allows, or null if it is not an
// error answer (Error's code narrowed by `properties.code`).
function codesOf(response) {
  const code = response.content?.['application/json']?.schema?.properties?.code;
  if (!code) return null;
  if (code.const !== undefined) return [code.const];
  return code.enum ?? null;
}

const operations = [];  // {method: 'GET', path, operation}
for (const [routePath, item] of Object.entries(document.paths)) {
  for (const method of kMethods) {
    if (item[method]) operations.push({ method: method.toUpperCase(), path: routePath, operation: item[method] });
  }
}

// Ajv, strict: a misspelt keyword, an unknown format or a type that cannot
// apply is an error, not a schema that silently accepts everything.
const kDocumentId = 'openapi.json';
const ajv = new Ajv2020({ strict: true, strictTypes: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
// The document's own members sit beside its schemas, and the OpenAPI
// dialect's annotation keywords may appear in them: known, not validated.
ajv.addVocabulary(['openapi', 'info', 'tags', 'security', 'servers', 'paths', 'components',
                   'webhooks', 'jsonSchemaDialect', 'externalDocs', 'example', 'xml', 'discriminator']);
ajv.addSchema(document, kDocumentId);
const validators = new Map();
function validatorAt(schemaPointer) {
  if (!validators.has(schemaPointer)) {
    validators.set(schemaPointer, ajv.compile({ $ref: `${kDocumentId}${schemaPointer}` }));
  }
  return validators.get(schemaPointer);
}
function check(schemaPointer, value, what) {
  const validate = validatorAt(schemaPointer);
  assert.ok(validate(value),
            `${what} does not match ${schemaPointer}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
}

test('the document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');
});

test('every schema in the document compiles under strict mode', () => {
  const schemas = [];
  for (const name of Object.keys(document.components.schemas)) schemas.push(pointer('components', 'schemas', name));
  const addContent = (at, content) => {
    for (const mediaType of Object.keys(content ?? {})) schemas.push(`${at}/content/${escape(mediaType)}/schema`);
  };
  const addResponse = (at, response) => {
    if (response.$ref) return;
    addContent(at, response.content);
    for (const name of Object.keys(response.headers ?? {})) schemas.push(`${at}/headers/${escape(name)}/schema`);
  };
  for (const [name, response] of Object.entries(document.components.responses)) {
    addResponse(pointer('components', 'responses', name), response);
  }
  for (const name of Object.keys(document.components.parameters ?? {})) {
    schemas.push(`${pointer('components', 'parameters', name)}/schema`);
  }
  for (const { method, path: routePath, operation } of operations) {
    const at = pointer('paths', routePath, method.toLowerCase());
    if (operation.requestBody) addContent(`${at}/requestBody`, operation.requestBody.content);
    (operation.parameters ?? []).forEach((parameter, index) => {
      if (!parameter.$ref) schemas.push(`${at}/parameters/${index}/schema`);
    });
    for (const [status, response] of Object.entries(operation.responses)) {
      addResponse(`${at}/responses/${escape(status)}`, response);
    }
  }
  assert.ok(schemas.length > 50, `found only ${schemas.length} schemas`);
  for (const at of schemas) assert.doesNotThrow(() => validatorAt(at), at);
});

// ------------------------------------------------------------ the answers

function documentedResponse(answer) {
  if (answer.component) {
    assert.ok(document.components.responses[answer.component],
              `components/responses/${answer.component} is not in the document`);
    return responseAt(pointer('components', 'responses', answer.component));
  }
  const item = document.paths[answer.path];
  assert.ok(item, `${answer.path} is not in the document's paths`);
  const operation = item[answer.method.toLowerCase()];
  assert.ok(operation, `${answer.method} ${answer.path} is not in the document`);
  const status = String(answer.status);
  assert.ok(operation.responses[status],
            `${answer.method} ${answer.path} documents no ${status} answer (it documents ${Object.keys(operation.responses).join(', ')})`);
  return responseAt(pointer('paths', answer.path, answer.method.toLowerCase(), 'responses', status));
}

assert.ok(recorded.answers.length > 0, 'no answers recorded');
for (const answer of recorded.answers) {
  const where = answer.component ? `components/responses/${answer.component}` : answer.path;
  test(`answer: ${answer.name} (${answer.method} ${answer.target.slice(0, 80)} -> ${answer.status})`, () => {
    assert.equal(answer.status, answer.expected_status,
                 `the scenario expects ${answer.expected_status}; the body was ${answer.body.slice(0, 500)}`);
    const { at, response } = documentedResponse(answer);

    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) {
        assert.ok(!header.required, `the required header ${name} is missing`);
        continue;
      }
      const typed = header.schema?.type === 'integer' || header.schema?.type === 'number' ? Number(value) : value;
      check(`${at}/headers/${escape(name)}/schema`, typed, `header ${name}: ${value}`);
    }

    // A request the server accepted is one the document allows.
    const operation = answer.path ? document.paths[answer.path][answer.method.toLowerCase()] : null;
    if (operation?.requestBody && answer.status >= 200 && answer.status < 300) {
      check(`${pointer('paths', answer.path, answer.method.toLowerCase())}/requestBody/content/application~1json/schema`,
            JSON.parse(answer.request_body), `the accepted request ${answer.request_body.slice(0, 300)}`);
    }

    const contentType = answer.headers['content-type'] ?? '';
    if (!response.content) {
      assert.equal(answer.body, '', `${where} ${answer.status} documents no body`);
    } else {
      const mediaType = contentType.split(';')[0].trim().toLowerCase();
      assert.ok(response.content[mediaType],
                `Content-Type ${contentType} is not documented (${Object.keys(response.content).join(', ')})`);
      const value = mediaType === 'application/json' ? JSON.parse(answer.body) : answer.body;
      check(`${at}/content/${escape(mediaType)}/schema`, value, `the body ${answer.body.slice(0, 300)}`);
    }
  });
}

// The coverage keys of what was recorded: "METHOD PATH STATUS[ CODE]" and
// "component NAME" (an answer the document does not know has none; its own
// test fails).
function coverageKey(answer) {
  if (answer.component) return `component ${answer.component}`;
  const key = `${answer.method} ${answer.path} ${answer.status}`;
  let codes = null;
  try {
    codes = codesOf(documentedResponse(answer).response);
  } catch {
    return null;
  }
  if (!codes) return key;
  try {
    return `${key} ${JSON.parse(answer.body).code}`;
  } catch {
    return null;
  }
}
const recordedKeys = new Set(recorded.answers.map(coverageKey).filter((key) => key !== null));

test('the served document is the source file', () => {
  const served = recorded.answers.find((answer) => answer.path === '/openapi.json' && answer.status === 200);
  assert.ok(served, 'GET /openapi.json was not recorded');
  assert.equal(served.body, documentText);
});

// ------------------------------------------------------------ WebSocket

for (const message of recorded.websocket_messages) {
  test(`WebSocket message: ${message.name}`, () => {
    const value = JSON.parse(message.text);
    check(pointer('components', 'schemas', 'WsServerMessage'), value, `the message ${message.text}`);
    assert.equal(value.type, message.expected_type);
  });
}

// ------------------------------------------------------------ coverage

test('every documented answer of a served route was recorded', () => {
  const required = [];
  const referenced = new Set();
  for (const { method, path: routePath, operation } of operations) {
    const route = `${method} ${routePath}`;
    for (const [status, response] of Object.entries(operation.responses)) {
      if (response.$ref) referenced.add(response.$ref);
      if (notYetRoutes.has(route) || notYetAnswers.has(`${route} ${status}`) || kUnprovokable.has(status)) continue;
      const codes = codesOf(responseAt(pointer('paths', routePath, method.toLowerCase(), 'responses', status)).response);
      if (codes) {
        for (const code of codes) required.push(`${route} ${status} ${code}`);
      } else {
        required.push(`${route} ${status}`);
      }
    }
  }
  // Path-independent answers: the components/responses no operation uses.
  for (const name of Object.keys(document.components.responses)) {
    if (!referenced.has(pointer('components', 'responses', name))) required.push(`component ${name}`);
  }
  const missing = required.filter((key) => !recordedKeys.has(key));
  assert.deepEqual(missing, [], 'documented but never recorded (record them in record_answers.cc)');
});

test('not_yet_served.txt lists only what is documented and not served', () => {
  const stale = [];
  for (const line of notYetAnswers) {
    const [method, routePath, status] = line.split(' ');
    if (!document.paths[routePath]?.[method.toLowerCase()]?.responses?.[status]) stale.push(`${line}: not documented`);
    if ([...recordedKeys].some((key) => key === line || key.startsWith(`${line} `))) stale.push(`${line}: recorded, so served`);
  }
  for (const route of notYetRoutes) {
    const [method, routePath] = route.split(' ');
    if (!document.paths[routePath]?.[method.toLowerCase()]) stale.push(`${route}: not documented`);
    if ([...recordedKeys].some((key) => key.startsWith(`${route} `))) stale.push(`${route}: recorded, so served`);
  }
  assert.deepEqual(stale, [], 'remove these lines');
});

test('every WebSocket message type was recorded', () => {
  const documented = document.components.schemas.WsServerMessage.oneOf
    .map((member) => resolve(member.$ref).properties.type.const);
  assert.ok(documented.length > 0);
  const recordedTypes = new Set(recorded.websocket_messages.map((message) => message.expected_type));
  assert.deepEqual(documented.filter((type) => !recordedTypes.has(type)), []);
});
