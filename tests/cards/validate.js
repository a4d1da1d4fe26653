#!/usr/bin/env node
// Validates Adaptive Cards for version 1.5, the version Teams renders, with Microsoft's own
// renderer library (npm `adaptivecards`, dist/adaptivecards.min.js) plus the few checks that
// library leaves out.
//
//   node tests/cards/validate.js < cards.json     stdin: {"name": card, ...}
//                                                  stdout: {"name": [problem, ...], ...}
//   node tests/cards/validate.js card.json ...     prints each file's problems; exit 1 if any
//
// A problem is {"event", "message", "type"}; a valid card has none. Parsing and validation need no
// DOM: only rendering does, and the end-to-end suite renders the cards in a real browser.
'use strict';

const fs = require('fs');
const path = require('path');
const AC = require(path.join(__dirname, '..', '..', 'node_modules', 'adaptivecards', 'dist', 'adaptivecards.min.js'));

const TARGET = AC.Versions.v1_5;

// Keys the library parses itself rather than through an object's property schema.
const STRUCTURAL_KEYS = {
  AdaptiveCard: ['body', 'actions', 'msteams'],
  Container: ['items'],
  Column: ['items'],
  TableCell: ['items'],
  ColumnSet: ['columns'],
  ActionSet: ['actions'],
  Table: ['rows'],
  TableRow: ['cells'],
  RichTextBlock: ['inlines'],
  'Action.ShowCard': ['card'],
};
const EVERY_OBJECT_KEYS = ['fallback'];

// Required by the Adaptive Cards schema, shown blank or broken by Teams, not checked by the library.
const REQUIRED = {
  TextBlock: ['text'],
  Image: ['url'],
  FactSet: ['facts'],
  ImageSet: ['images'],
  'Input.Toggle': ['title'],
  'Action.ShowCard': ['card'],
  'Action.ToggleVisibility': ['targetElements'],
};
// Small objects inside elements, which the library does not report on.
const PARTS = { facts: ['title', 'value'], choices: ['title', 'value'] };

function problem(event, message, type) {
  return { event, message, type: type || null };
}

function schemaNames(cardObject) {
  const schema = cardObject.getSchema();
  const names = new Map();
  for (let i = 0; i < schema.getCount(); i++) {
    const property = schema.getItemAt(i);
    names.set(property.name, property.targetVersion);
  }
  return names;
}

function checkProperties(cardObject, source, problems) {
  const type = cardObject.getJsonTypeName();
  const known = schemaNames(cardObject);
  const structural = new Set([...(STRUCTURAL_KEYS[type] || []), ...EVERY_OBJECT_KEYS]);
  for (const key of Object.keys(source)) {
    if (structural.has(key)) continue;
    if (!known.has(key)) {
      problems.push(problem('UnknownProperty', `${type} has no property "${key}".`, type));
    } else if (known.get(key).compareTo(TARGET) > 0) {
      problems.push(problem('PropertyNewerThanTarget',
        `${type}.${key} needs Adaptive Cards ${known.get(key)}; Teams renders ${TARGET}.`, type));
    }
  }
  for (const key of REQUIRED[type] || []) {
    const value = source[key];
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
      problems.push(problem('PropertyCantBeNull', `${type} needs "${key}".`, type));
    }
  }
  for (const [key, fields] of Object.entries(PARTS)) {
    if (!Array.isArray(source[key])) continue;
    source[key].forEach((part, index) => {
      const extra = Object.keys(part || {}).filter((name) => !fields.includes(name));
      const missing = fields.filter((name) => typeof (part || {})[name] !== 'string');
      if (extra.length || missing.length) {
        problems.push(problem('InvalidPropertyValue',
          `${type}.${key}[${index}] must have exactly ${fields.join(' and ')} as strings.`, type));
      }
    });
  }
}

function validateCard(json) {
  const problems = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return [problem('MissingCardType', 'A card must be a JSON object.')];
  }
  if (typeof json.version !== 'string') {
    problems.push(problem('UnsupportedCardVersion', 'The card has no version; Teams needs one.', 'AdaptiveCard'));
  } else {
    const version = AC.Version.parse(json.version, new AC.SerializationContext());
    if (!version || !version.isValid || version.compareTo(TARGET) > 0) {
      problems.push(problem('UnsupportedCardVersion',
        `Card version "${json.version}" is not one Teams renders (${TARGET} or lower).`, 'AdaptiveCard'));
    }
  }
  const context = new AC.SerializationContext(TARGET);
  const parsed = [];
  context.onParseElement = (element, source) => parsed.push([element, source]);
  context.onParseAction = (action, source) => parsed.push([action, source]);
  const card = new AC.AdaptiveCard();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    problems.push(problem(AC.ValidationEvent[event.event], event.message,
      event.source && event.source.getJsonTypeName ? event.source.getJsonTypeName() : null));
  }
  for (const event of card.validateProperties().validationEvents) {
    problems.push(problem(AC.ValidationEvent[event.event], event.message,
      event.source && event.source.getJsonTypeName ? event.source.getJsonTypeName() : null));
  }
  checkProperties(card, json, problems);
  for (const [cardObject, source] of parsed) checkProperties(cardObject, source, problems);
  return problems;
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function main(argv) {
  if (argv.length === 0) {
    const cards = JSON.parse(readStdin());
    const results = {};
    for (const [name, card] of Object.entries(cards)) results[name] = validateCard(card);
    process.stdout.write(JSON.stringify(results) + '\n');
    return 0;
  }
  let failed = false;
  for (const file of argv) {
    const problems = validateCard(JSON.parse(fs.readFileSync(file, 'utf8')));
    failed = failed || problems.length > 0;
    console.log(`${file}: ${problems.length ? problems.length + ' problem(s)' : 'valid for Adaptive Cards ' + TARGET}`);
    for (const item of problems) console.log(`  ${item.event}: ${item.message}`);
  }
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
module.exports = { validateCard };
