import RunModel
/// JavaScript evaluated (after Debian's `typescript.js`) in the compiler's context. It returns the function that
/// turns worker source into `{ok, code, lineMap}` or `{ok:false, message, line, column}`.
///
/// Rules (spec §5): one module with a default export; imports from `jfrog-workers` and `./types` are dropped (the
/// names they bring are either types or the status enums the prelude defines as globals); an import from any other
/// module is dropped when TypeScript elides it (its names are used only as types) and refused when it stays (a value
/// import); no side-effect import, `import x = require()`, re-export or dynamic `import()`.
enum CompilerScript {
    static let defaultTypeScriptPath = "/usr/share/nodejs/typescript/lib/typescript.js"
    static let sourceURL = "warden-compiler"

    static let source = #"""
        (function () {
          'use strict';
          const allowed = new Set(['jfrog-workers', './types', './types.ts', './types.js']);
          const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
          const at = (sf, pos, message) => {
            const lc = sf.getLineAndCharacterOfPosition(pos);
            return { ok: false, message, line: lc.line + 1, column: lc.character + 1 };
          };
          const diagnostic = (d) => {
            const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
            return d.file && d.start !== undefined ? at(d.file, d.start, message) : { ok: false, message, line: 0, column: 0 };
          };
          const hasModifier = (node, kind) => (node.modifiers || []).some((m) => m.kind === kind);
          // Generated line -> first source line mapped on it (1-based; 0 when none), from the source map's VLQ mappings.
          const lineMap = (mappings) => {
            const out = [];
            let sourceLine = 0;
            for (const line of mappings.split(';')) {
              let first = 0;
              for (const segment of line.split(',')) {
                if (!segment) continue;
                const fields = [];
                let value = 0, shift = 0;
                for (let i = 0; i < segment.length; i++) {
                  let digit = base64.indexOf(segment[i]);
                  const more = digit & 32;
                  digit &= 31;
                  value += digit << shift;
                  if (more) { shift += 5; continue; }
                  fields.push(value & 1 ? -(value >> 1) : value >> 1);
                  value = 0; shift = 0;
                }
                if (fields.length >= 4) {
                  sourceLine += fields[2];
                  if (!first) first = sourceLine + 1;
                }
              }
              out.push(first);
            }
            return out;
          };
          // Allowed imports are blanked out of the text (newlines kept, so every position stays where it was) before
          // transpiling: the names they bring are types or the enums the prelude defines as globals.
          const blank = (text, ranges) => {
            let out = '', last = 0;
            for (const [start, end] of ranges) {
              out += text.slice(last, start) + text.slice(start, end).replace(/[^\n]/g, ' ');
              last = end;
            }
            return out + text.slice(last);
          };

          return function compile(source) {
            const sf = ts.createSourceFile('worker.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
            if (sf.parseDiagnostics && sf.parseDiagnostics.length) return diagnostic(sf.parseDiagnostics[0]);
            let hasDefault = false;
            const dropped = [];
            // Imports from any other module stay in the text: TypeScript elides those whose names are used only as
            // types (as the reference does), and one it keeps (a require in the output) is a value import: refused.
            const foreign = [];
            for (const s of sf.statements) {
              if (ts.isImportDeclaration(s)) {
                const from = s.moduleSpecifier.text;
                if (allowed.has(from)) dropped.push([s.getStart(sf), s.end]);
                else if (!s.importClause) return at(sf, s.getStart(sf), "import of '" + from + "' is not allowed: workers have no modules to load");
                else foreign.push([from, s.getStart(sf)]);
              } else if (ts.isImportEqualsDeclaration(s)) {
                return at(sf, s.getStart(sf), "'import = require()' is not allowed in workers");
              } else if (ts.isExportAssignment(s)) {
                if (s.isExportEquals) return at(sf, s.getStart(sf), "'export =' is not allowed: use 'export default'");
                hasDefault = true;
              } else if (ts.isExportDeclaration(s)) {
                if (s.moduleSpecifier) return at(sf, s.getStart(sf), 're-exports from other modules are not allowed in workers');
                if (s.exportClause && ts.isNamedExports(s.exportClause) && s.exportClause.elements.some((e) => e.name.text === 'default')) hasDefault = true;
              } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && hasModifier(s, ts.SyntaxKind.ExportKeyword) && hasModifier(s, ts.SyntaxKind.DefaultKeyword)) {
                hasDefault = true;
              }
            }
            let dynamicImport = null;
            const visit = (node) => {
              if (dynamicImport) return;
              if (node.kind === ts.SyntaxKind.CallExpression && node.expression.kind === ts.SyntaxKind.ImportKeyword) { dynamicImport = node; return; }
              ts.forEachChild(node, visit);
            };
            visit(sf);
            if (dynamicImport) return at(sf, dynamicImport.getStart(sf), 'dynamic import() is not allowed in workers');
            if (!hasDefault) return { ok: false, message: 'the worker has no default export; write: export default async (context, data) => { ... }', line: 1, column: 1 };
            let out;
            try {
              out = ts.transpileModule(blank(source, dropped), {
                fileName: 'worker.ts', reportDiagnostics: true,
                compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, sourceMap: true, alwaysStrict: true, esModuleInterop: false },
              });
            } catch (e) {
              // TypeScript 4.8 can fail with an internal "Debug Failure" on malformed input: still the source's fault.
              return { ok: false, message: 'the TypeScript compiler failed on this source: ' + String(e && e.message || e), line: 0, column: 0 };
            }
            const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
            if (errors.length) return diagnostic(errors[0]);
            for (const [from, start] of foreign) {
              const quoted = JSON.stringify(from);
              if (out.outputText.includes('require(' + quoted + ')') || out.outputText.includes("require('" + from + "')")) {
                return at(sf, start, "import from '" + from + "' is not allowed: workers may import only types (an import whose names are used only as types is dropped); values come from the context: context.clients.axios, context.clients.platformHttp, context.crypto");
              }
            }
            const map = JSON.parse(out.sourceMapText || '{"mappings":""}');
            const code = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
            return { ok: true, code, lineMap: lineMap(map.mappings || '') };
          };
        })()
        """#
}
