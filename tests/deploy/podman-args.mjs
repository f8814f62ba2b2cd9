// SPDX-License-Identifier: Apache-2.0
//
// Translates the rendered DaemonSet into `podman run` arguments, so the container test runs the
// image exactly as the DaemonSet would: its user, capabilities, seccomp, no_new_privs, read-only
// root, hostPID, resource limits, volumes (read-only where the DaemonSet says so), ports and
// arguments. Host paths are remapped to the test's directories; ConfigMap volumes are written
// out from the rendered ConfigMap. What podman cannot express (node affinity, tolerations,
// probes: the test exercises the probe endpoints itself) is left out.
//
// usage: node podman-args.mjs NODE_MODULES RENDERED.yaml CONFIGMAP_DIR HOST_PORT [HOSTPATH=DIR...]
// Prints one argument per line: the options, the image, then the container's arguments.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modulesDir, rendered, cmDir, hostPort, ...maps] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), "index.js"));
const yaml = require("js-yaml");
const objs = yaml.loadAll(readFileSync(rendered, "utf8")).filter(Boolean);
const remap = new Map(maps.map((m) => m.split("=")));
const ds = objs.find((o) => o.kind === "DaemonSet");
const pod = ds.spec.template.spec;
const c = pod.containers[0];
const sc = c.securityContext || {};
const out = [];

// Kubernetes quantities to podman's units
function bytes(q) {
	const m = /^([0-9.]+)(Ki|Mi|Gi|K|M|G)?$/.exec(String(q));
	if (!m) throw new Error(`quantity ${q}`);
	const mult = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2]] || 1;
	return Math.round(Number(m[1]) * mult);
}
const cpus = (q) => (String(q).endsWith("m") ? Number(String(q).slice(0, -1)) / 1000 : Number(q));

if (pod.hostPID) out.push("--pid=host");
if (pod.hostNetwork) out.push("--network=host");
if (sc.runAsUser !== undefined) out.push(`--user=${sc.runAsUser}:${sc.runAsGroup ?? 0}`);
if (sc.privileged) out.push("--privileged");
for (const cap of sc.capabilities?.drop || []) out.push(`--cap-drop=${cap}`);
for (const cap of sc.capabilities?.add || []) out.push(`--cap-add=${cap}`);
if (sc.allowPrivilegeEscalation === false) out.push("--security-opt=no-new-privileges");
if (sc.seccompProfile?.type === "Unconfined") out.push("--security-opt=seccomp=unconfined");
// Kubernetes mounts no tmpfs of its own on a read-only root
if (sc.readOnlyRootFilesystem) out.push("--read-only", "--read-only-tmpfs=false");
const lim = c.resources?.limits || {};
if (lim.memory) out.push(`--memory=${bytes(lim.memory)}`);
if (lim.cpu) out.push(`--cpus=${cpus(lim.cpu)}`);

const vols = new Map(pod.volumes.map((v) => [v.name, v]));
for (const m of c.volumeMounts) {
	const v = vols.get(m.name);
	let host;
	if (v.hostPath) {
		host = remap.get(v.hostPath.path) ?? v.hostPath.path;
	} else if (v.configMap) {
		const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name);
		host = path.join(cmDir, m.name);
		mkdirSync(host, { recursive: true });
		for (const [k, data] of Object.entries(cm.data)) writeFileSync(path.join(host, k), data);
	} else {
		throw new Error(`volume ${m.name}: only hostPath and configMap are translated`);
	}
	out.push(`--volume=${host}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
}
if (!pod.hostNetwork)
	for (const p of c.ports || [])
		out.push(`--publish=127.0.0.1:${hostPort}:${p.containerPort}/${(p.protocol || "TCP").toLowerCase()}`);
out.push(c.image, ...(c.args || []));
console.log(out.join("\n"));
