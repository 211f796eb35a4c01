// Reads a Mermaid gantt block on stdin, parses it with the real Mermaid package and prints what
// Mermaid understood as JSON: title, axis, sections and tasks. Needs `mermaid` and `jsdom`
// installed next to it (tests/test_mermaid.py does so when asked to).
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

const text = readFileSync(0, 'utf8');
await mermaid.parse(text);  // throws on a syntax error; registers the diagram types
const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
console.log(JSON.stringify({
  title: db.getDiagramTitle(),
  axisFormat: db.getAxisFormat(),
  tickInterval: db.getTickInterval(),
  sections: db.getSections(),
  tasks: db.getTasks().map((t) => ({ section: t.section, name: t.task })),
}));
