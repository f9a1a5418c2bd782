// Prints, as JSON, the value members that sysjobs/bindings/sys.d.ts declares:
// {"<namespace>": {"members": [...], "classes": {"<Class>": [methods...]}}, "globals": [...]}
// Read with the TypeScript compiler's own parser, so formatting never fools the check.
"use strict";
const ts = require(process.argv[2]);
const fs = require("fs");
const file = process.argv[3];
const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
const out = { globals: [] };

function classMembers(node) {
  const names = new Set();
  for (const m of node.members) {
    if (ts.isMethodDeclaration(m) && m.name) names.add(m.name.getText(src));
  }
  const ext = (node.heritageClauses || []).some((h) => h.types.some((t) => t.expression.getText(src) === "Error"));
  if (ext) ["message", "name"].forEach((n) => names.add(n));
  return [...names].sort();
}

function namespaceBody(name, body) {
  const entry = { members: new Set(), classes: {}, constants: {} };
  for (const st of body.statements) {
    if (ts.isFunctionDeclaration(st)) entry.members.add(st.name.text);
    else if (ts.isClassDeclaration(st)) { entry.members.add(st.name.text); entry.classes[st.name.text] = classMembers(st); }
    else if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      // `export { delete_ as delete }`: the member scripts see is the exported name.
      for (const el of st.exportClause.elements) {
        if (el.propertyName) entry.members.delete(el.propertyName.text);
        entry.members.add(el.name.text);
      }
    }
    else if (ts.isVariableStatement(st)) {
      st.declarationList.declarations.forEach((d) => {
        entry.members.add(d.name.getText(src));
        // `const X: "value"`: the declared value, checked against what scripts see.
        if (d.type && ts.isLiteralTypeNode(d.type) && ts.isStringLiteral(d.type.literal)) {
          entry.constants[d.name.getText(src)] = d.type.literal.text;
        }
      });
    }
  }
  out[name] = { members: [...entry.members].sort(), classes: entry.classes, constants: entry.constants };
}

for (const st of src.statements) {
  if (ts.isFunctionDeclaration(st)) out.globals.push(st.name.text);
  if (ts.isModuleDeclaration(st) && st.name.text === "sys") {
    for (const inner of st.body.statements) {
      if (ts.isModuleDeclaration(inner)) namespaceBody(inner.name.text, inner.body);
    }
  }
}
process.stdout.write(JSON.stringify(out));
