// Checks that generated Swift parses, with tree-sitter-swift (there is no Swift compiler on
// this machine). That grammar (0.7.1) misreads three constructs UniFFI emits:
//   A. `@_documentation(visibility: private)` inside `#if swift(>=5.8)` ... `#endif`
//   B. `nonisolated(unsafe)`
//   C. a closure `{ () }` (e.g. `let writeReturn = { () }`)
// and one misreading can leave further ERROR / MISSING nodes behind it (a stray `#endif`, an
// extension closed early). So the check runs twice:
//   1. the file as generated: every ERROR / MISSING node is listed, with the nearest known
//      construct at or before it;
//   2. the same file with only those constructs blanked out (same length, same lines): it must
//      parse with no ERROR / MISSING node at all. Then nothing but the known constructs breaks
//      the parse.
//
//   NODE_PATH=<dir>/node_modules node parse-swift.js FILE.swift
// Ends with "swift-parse: ..."; exit 1 if the blanked file still has errors or is not read to
// its end. (Positions from the node binding are UTF-16 offsets, like JavaScript strings.)
"use strict";
const fs = require("fs");
const Parser = require("tree-sitter");
const Swift = require("tree-sitter-swift");

const file = process.argv[2];
if (!file) {
    console.error("usage: node parse-swift.js FILE.swift");
    process.exit(2);
}
const src = fs.readFileSync(file, "utf8");

const KNOWN = [
    { id: "A", name: "@_documentation under #if swift(>=5.8)",
      re: /#if swift\(>=5\.8\)[ \t]*\n[ \t]*@_documentation\(visibility: private\)[ \t]*\n[ \t]*#endif/g },
    { id: "B", name: "nonisolated(unsafe)", re: /nonisolated\(unsafe\)/g },
    { id: "C", name: "closure { () }", re: /\{ \(\) \}/g },
];

function rowOf(index) {
    let row = 0;
    for (let i = 0; i < index; i++) if (src.charCodeAt(i) === 10) row++;
    return row;
}

// Every occurrence of a known construct, and the blanked copy.
const occurrences = [];
let blanked = src;
for (const k of KNOWN) {
    k.count = 0;
    blanked = blanked.replace(k.re, (m, offset) => {
        k.count++;
        occurrences.push({ kind: k, row: rowOf(offset) });
        // `{ () }` must stay a closure: keep the braces.
        if (k.id === "C") return "{" + " ".repeat(m.length - 2) + "}";
        return m.replace(/[^\n]/g, " ");
    });
}
occurrences.sort((a, b) => a.row - b.row);

function errors(text) {
    const parser = new Parser();
    parser.setLanguage(Swift);
    // The default buffer is too small for files of a few hundred KiB.
    const tree = parser.parse(text, undefined, { bufferSize: 4 * text.length + 65536 });
    const found = [];
    (function walk(node) {
        if (node.type === "ERROR" || node.isMissing) {
            found.push(node);
            return; // an ERROR's children belong to the same misreading
        }
        for (let i = 0; i < node.childCount; i++) walk(node.child(i));
    })(tree.rootNode);
    return { tree, found };
}

const lines = src.split("\n");
const original = errors(src);
console.log(`${file}: ${original.found.length} ERROR/MISSING nodes as generated`);
for (const n of original.found) {
    const row = n.startPosition.row;
    let near = null;
    for (const o of occurrences) if (o.row <= row) near = o;
    const what = n.isMissing ? `MISSING ${n.type}` : "ERROR";
    const why = near ? `after ${near.kind.id} (${near.kind.name}) at line ${near.row + 1}` : "before any known construct";
    console.log(`  ${row + 1}:${n.startPosition.column + 1} ${what} [${why}]: ${(lines[row] || "").trim()}`);
}
for (const k of KNOWN) console.log(`known construct ${k.id} (${k.name}): ${k.count} occurrences`);

const clean = errors(blanked);
for (const n of clean.found) {
    const row = n.startPosition.row;
    console.log(`  UNEXPECTED ${row + 1}:${n.startPosition.column + 1} ${n.isMissing ? "MISSING " + n.type : "ERROR"}: ${(lines[row] || "").trim()}`);
}
const ok = clean.found.length === 0 && !clean.tree.rootNode.hasError && clean.tree.rootNode.endIndex >= blanked.trimEnd().length;
console.log(
    `swift-parse: ${original.found.length} error nodes as generated, ` +
    `${occurrences.length} known constructs blanked, ${clean.found.length} error nodes left` +
    (ok ? " (ok)" : " (FAIL)"));
process.exit(ok ? 0 : 1);
