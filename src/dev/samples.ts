import { parseAllDocuments, stringify } from 'yaml';
import type { ControlPlane } from '../envtest/index.ts';
import { tail } from '../envtest/process.ts';

/** One object of the samples, as `kubectl` names it (`agentclient.agentidentity.dev/x -n agents`). */
export interface SampleObject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface ApplySamplesOptions {
  controlPlane: ControlPlane;
  /** A kustomization folder (default for the dev stack: config/samples). */
  samplesDir: string;
  /** The running embedded IdP's issuer; an `embedded` IdentityProvider naming another is pointed here. */
  issuer: string;
  /** How long the IdentityProviders and AgentClients may take to become Ready (default 120 s). */
  readyTimeoutMs?: number;
  /** The operator's log, whose tail is shown when something does not become Ready. */
  operatorLogFile: string;
}

export interface AppliedSamples {
  objects: SampleObject[];
  /** Set when the sample IdentityProvider named another issuer and a patched copy was applied. */
  patchedIssuer?: { name: string; from: string; to: string };
}

/** Kinds whose readiness `make dev` waits for (the others have nothing asynchronous to wait for). */
const AWAITED_KINDS = ['IdentityProvider', 'AgentClient'];

/**
 * Render the samples with `kubectl kustomize`, point an `embedded` IdentityProvider at the running
 * IdP when its issuer differs (the sample names 127.0.0.1:4444; tests run the IdP elsewhere, and
 * the file itself is never changed), apply them, and wait until every IdentityProvider and
 * AgentClient among them has condition Ready=True (`kubectl wait`, kstatus). On a timeout the
 * error carries each object's conditions and the operator log's tail.
 */
export async function applySamples(options: ApplySamplesOptions): Promise<AppliedSamples> {
  const { controlPlane } = options;
  const rendered = await controlPlane.kubectl(['kustomize', options.samplesDir]);
  const objects: SampleObject[] = [];
  let patchedIssuer: AppliedSamples['patchedIssuer'];
  const docs = parseAllDocuments(rendered.stdout).map((doc) => doc.toJS() as Manifest | null);
  for (const doc of docs) {
    if (!doc?.kind || !doc.metadata?.name) continue;
    objects.push({ kind: doc.kind, name: doc.metadata.name, ...(doc.metadata.namespace ? { namespace: doc.metadata.namespace } : {}) });
    if (doc.kind === 'IdentityProvider' && doc.spec?.type === 'embedded' && doc.spec.issuer !== options.issuer) {
      patchedIssuer = { name: doc.metadata.name, from: String(doc.spec.issuer), to: options.issuer };
      doc.spec.issuer = options.issuer;
    }
  }
  const manifest = docs.filter((doc) => doc !== null).map((doc) => stringify(doc)).join('---\n');
  await controlPlane.kubectl(['apply', '-f', '-'], { input: manifest });

  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (const object of objects.filter((o) => AWAITED_KINDS.includes(o.kind))) {
    const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const result = await controlPlane.kubectl(['wait', '--for=condition=Ready', `--timeout=${seconds}s`, ...ref(object)], {
      allowFailure: true,
    });
    if (result.code !== 0) {
      throw new Error(
        `${describe(object)} did not become Ready within ${timeoutMs / 1000}s (${result.stderr.trim()})\n` +
          `Conditions:\n${await conditionsOf(controlPlane, objects)}\n` +
          `Operator log (${options.operatorLogFile}), last lines:\n${await tail(options.operatorLogFile, 30)}`,
      );
    }
  }
  return { objects, ...(patchedIssuer ? { patchedIssuer } : {}) };
}

interface Manifest {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { type?: string; issuer?: unknown };
}

function ref(object: SampleObject): string[] {
  const kind = object.kind.toLowerCase();
  return object.namespace ? ['-n', object.namespace, `${kind}/${object.name}`] : [`${kind}/${object.name}`];
}

function describe(object: SampleObject): string {
  return `${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`;
}

/** One line per awaited object: each condition as `Type=Status Reason: message`. */
async function conditionsOf(controlPlane: ControlPlane, objects: SampleObject[]): Promise<string> {
  const template = '{{range .status.conditions}}  {{.type}}={{.status}} {{.reason}}: {{.message}}{{"\\n"}}{{end}}';
  const lines: string[] = [];
  for (const object of objects.filter((o) => AWAITED_KINDS.includes(o.kind))) {
    const result = await controlPlane.kubectl(['get', ...ref(object), '-o', `go-template=${template}`], { allowFailure: true });
    lines.push(`${describe(object)}:`, result.code === 0 ? result.stdout.trimEnd() || '  (no conditions yet)' : `  ${result.stderr.trim()}`);
  }
  return lines.join('\n');
}
