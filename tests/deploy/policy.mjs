// SPDX-License-Identifier: Apache-2.0
//
// Checks what the schemas cannot: that the rendered DaemonSet (kubectl kustomize output) keeps
// the privileges and placement keyhole's design promises, and that the pieces agree with each
// other (the --metrics port, the probes, the scrape annotations; the config mount and --config).
//
// usage: node policy.mjs NODE_MODULES_DIR FILE|- [base|legacy-kernel|uprobe-tap]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modulesDir, file, variant = "base"] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), "index.js"));
const yaml = require("js-yaml");
const objs = yaml.loadAll(readFileSync(file === "-" ? 0 : file, "utf8")).filter(Boolean);

const failures = [];
function check(ok, what) {
	console.log(`${ok ? "ok  " : "FAIL"} ${variant}: ${what}`);
	if (!ok) failures.push(what);
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const byKind = (k) => objs.filter((o) => o.kind === k);
const ds = byKind("DaemonSet")[0];
check(ds !== undefined, "one DaemonSet");
if (!ds) process.exit(1);
const ns = byKind("Namespace")[0];
const pod = ds.spec.template.spec;
const c = pod.containers[0];
const sc = c.securityContext;

check(ns && ns.metadata.name !== "default" && ns.metadata.name !== "kube-system",
      "its own namespace");
check(objs.every((o) => o.kind === "Namespace" || o.metadata.namespace === ns.metadata.name),
      "every namespaced object in it");
check(!objs.some((o) => /Role|RoleBinding/.test(o.kind)), "no RBAC rights granted");
const sa = byKind("ServiceAccount")[0];
check(sa && sa.automountServiceAccountToken === false && pod.serviceAccountName ===
      sa.metadata.name && pod.automountServiceAccountToken === false,
      "own service account, no token mounted");

check(pod.hostPID === true, "hostPID");
check(!pod.hostNetwork && !pod.hostIPC, "no host network or IPC");
const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
	.nodeSelectorTerms.map((t) => t.matchExpressions.map((e) => `${e.key} ${e.operator}`));
check(eq(terms, [["node-role.kubernetes.io/control-plane Exists"],
		 ["node-role.kubernetes.io/master Exists"]]),
      "control-plane nodes only, current or legacy label");
for (const taint of ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"])
	check(pod.tolerations.some((t) => t.key === taint && t.operator === "Exists" &&
				   t.effect === "NoSchedule"), `tolerates ${taint}`);

const caps = variant === "legacy-kernel" ? ["SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"]
	: variant === "uprobe-tap" ? ["BPF", "PERFMON", "SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"]
				   : ["BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"];
const admin = caps.includes("SYS_ADMIN");
check(sc.privileged !== true, "not privileged");
check(eq(sc.capabilities.drop, ["ALL"]), "drops every capability");
check(eq([...sc.capabilities.add].sort(), caps), `adds exactly ${caps.join(", ")}`);
check(sc.allowPrivilegeEscalation === admin,
      "no privilege escalation (except beside SYS_ADMIN, where the API demands it)");
check(sc.readOnlyRootFilesystem === true, "read-only root filesystem");
check(c.resources.requests && c.resources.limits && c.resources.limits.memory,
      "resource requests and limits");

const mounts = new Map(c.volumeMounts.map((m) => [m.name, m]));
const vols = new Map(pod.volumes.map((v) => [v.name, v]));
for (const [host, name] of [["/sys/kernel/btf", "btf"], ["/sys/kernel/tracing", "tracing"],
			     ["/var/log/pods", "pod-logs"], ["/var/log/kubernetes/audit", "audit-log"]])
	check(vols.get(name)?.hostPath?.path === host && mounts.get(name)?.readOnly === true,
	      `${host} mounted read-only`);
check(vols.get("state")?.hostPath && !mounts.get("state")?.readOnly,
      "a writable host directory for the state file");
const writable = c.volumeMounts.filter((m) => !m.readOnly).map((m) => m.name);
check(eq(writable, ["state"]), "nothing else writable");

// the uprobe-tap overlay's CAP_SYS_ADMIN is only for --late-uprobes, which keeps it permitted
// and raises it around an attach; without the flag the grant would be held effective for nothing
check(c.args.includes("--late-uprobes") === (variant === "uprobe-tap"),
      "--late-uprobes exactly where the uprobe-tap overlay grants CAP_SYS_ADMIN for it");
const arg = (flag) => c.args[c.args.indexOf(flag) + 1];
const port = Number(arg("--metrics").split(":").pop());
const cport = c.ports.find((p) => p.name === "metrics");
check(cport && cport.containerPort === port, `metrics container port is --metrics's (${port})`);
check(c.livenessProbe.httpGet.path === "/healthz" && c.readinessProbe.httpGet.path === "/readyz" &&
      [c.livenessProbe, c.readinessProbe].every((p) => p.httpGet.port === "metrics"),
      "liveness on /healthz, readiness on /readyz, on that port");
const ann = ds.spec.template.metadata.annotations;
check(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === String(port) &&
      ann["prometheus.io/path"] === "/metrics", "Prometheus scrape annotations agree");
const cm = byKind("ConfigMap").find((m) => m.metadata.name === vols.get("config")?.configMap?.name);
const cfgMount = mounts.get("config")?.mountPath;
check(cm && path.dirname(arg("--config")) === cfgMount &&
      path.basename(arg("--config")) in cm.data, "--config is the mounted ConfigMap's file");

console.log(`policy ${variant}: ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
