// SPDX-License-Identifier: Apache-2.0
//
// Validates Kubernetes manifests offline, as strictly as `kubectl apply --validate=strict`:
//  1. each object against its OpenAPI schema (types, required fields, enums), with the
//     validators the npm package kubernetes-models ships for Kubernetes 1.27;
//  2. no field the API does not know (the schemas allow unknown fields; the API server drops
//     them silently, so a typo such as readOnlyRootFileSystem would pass step 1 and protect
//     nothing): checked by walking each object alongside the type declarations (.d.ts) of the
//     same package.
//
// usage: node validate.mjs NODE_MODULES_DIR FILE|- ...   (multi-document YAML; - is stdin)
// Prints one line per object; exits 1 if any object is invalid.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modulesDir, ...files] = process.argv.slice(2);
if (!modulesDir || files.length === 0) {
	console.error("usage: node validate.mjs NODE_MODULES_DIR FILE|- ...");
	process.exit(2);
}
const require = createRequire(path.join(path.resolve(modulesDir), "index.js"));
const yaml = require("js-yaml");

// ---- the type declarations: interface name -> { field: type expression } ------------------
const declCache = new Map();

// the fields of the first interface in a .d.ts, and where its imported names come from
function parseDecl(file) {
	if (declCache.has(file)) return declCache.get(file);
	// the doc comments between fields hold braces and semicolons of their own
	const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
	const imports = new Map();
	for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g))
		for (const name of m[1].split(",").map((s) => s.trim()))
			imports.set(name, m[2]);
	const start = text.search(/export interface \w+(?: extends [^{]+)? \{/);
	let fields = null;
	if (start >= 0) {
		fields = new Map();
		let i = text.indexOf("{", start) + 1;
		for (;;) {
			const m = /\s*"([^"]+)"\??: /y;
			m.lastIndex = i;
			const f = m.exec(text);
			if (!f) break;
			// the type runs to the ';' outside any {} or <>
			let j = m.lastIndex, depth = 0;
			for (; j < text.length; j++) {
				const c = text[j];
				if (c === "{" || c === "<") depth++;
				else if (c === "}" || c === ">") depth--;
				else if (c === ";" && depth === 0) break;
			}
			fields.set(f[1], text.slice(m.lastIndex, j).trim());
			i = j + 1;
		}
	}
	const decl = { file, imports, fields };
	declCache.set(file, decl);
	return decl;
}

function resolveImport(decl, name) {
	const from = decl.imports.get(name);
	if (!from) return null;
	const base = from.startsWith(".")
		? path.resolve(path.dirname(decl.file), from)
		: require.resolve(from).replace(/\.js$/, "");
	return parseDecl(base.replace(/\.js$/, "") + ".d.ts");
}

// report every field of @value that @type (a type expression in @decl) does not declare
function walk(value, type, decl, where, errors) {
	if (value === null || typeof value !== "object") return;
	let m;
	if ((m = /^Array<(.*)>$/s.exec(type))) {
		if (Array.isArray(value))
			value.forEach((v, i) => walk(v, m[1], decl, `${where}[${i}]`, errors));
		return;
	}
	if ((m = /^\{\s*\[key: string\]: (.*?);?\s*\}$/s.exec(type))) {
		for (const [k, v] of Object.entries(value)) walk(v, m[1], decl, `${where}.${k}`, errors);
		return;
	}
	if (!/^\w+$/.test(type)) return; // a primitive, a union of literals
	const target = resolveImport(decl, type);
	if (target && target.fields) checkObject(value, target, where, errors);
}

function checkObject(value, decl, where, errors) {
	if (Array.isArray(value)) return; // the schema check reports the wrong type
	for (const [k, v] of Object.entries(value)) {
		const t = decl.fields.get(k);
		if (t === undefined) errors.push(`${where}.${k}: unknown field`);
		else walk(v, t, decl, `${where}.${k}`, errors);
	}
}

// ---- objects ------------------------------------------------------------------------------
function modelPath(obj) {
	const [group, version] = obj.apiVersion.includes("/")
		? obj.apiVersion.split("/")
		: [null, obj.apiVersion];
	return `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
}

function validateObject(obj, label) {
	if (!obj || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string")
		return [`${label}: not a Kubernetes object (no apiVersion/kind)`];
	let mod;
	try {
		mod = require(modelPath(obj));
	} catch {
		return [`${label}: unknown kind ${obj.apiVersion} ${obj.kind}`];
	}
	const errors = [];
	try {
		new mod[obj.kind](obj).validate();
	} catch (e) {
		errors.push(`${label}: ${e.message}`);
	}
	const decl = parseDecl(require.resolve(modelPath(obj)).replace(/\.js$/, ".d.ts"));
	checkObject(obj, decl, label, errors);
	return errors;
}

let bad = 0, n = 0;
for (const file of files) {
	const text = readFileSync(file === "-" ? 0 : file, "utf8");
	let docs;
	try {
		docs = yaml.loadAll(text);
	} catch (e) {
		console.log(`FAIL ${file}: YAML: ${e.message}`);
		bad++;
		continue;
	}
	for (const obj of docs) {
		if (obj === null || obj === undefined) continue;
		n++;
		const label = `${file}: ${obj.kind}/${obj.metadata && obj.metadata.name}`;
		const errors = validateObject(obj, label);
		if (errors.length) {
			bad++;
			for (const e of errors) console.log(`FAIL ${e}`);
		} else {
			console.log(`ok   ${label}`);
		}
	}
}
console.log(`validate: ${n} objects, ${bad} invalid`);
process.exit(bad || n === 0 ? 1 : 0);
