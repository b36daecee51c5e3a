/**
 * Loads the hand-written CRDs in `crds/` (the single source of truth for the API) and checks the
 * fragments that are repeated across them (metav1.Condition, LabelSelector) have not drifted
 * apart, since each copy is edited by hand.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { parse } from 'yaml';

/** A JSON Schema (OpenAPI v3 subset as in apiextensions.k8s.io/v1), loosely typed. */
export type Schema = { [key: string]: unknown };

/** One CRD file as read from `crds/`. */
export interface CrdSource {
  /** File name, e.g. `agentidentity.dev_agentclients.yaml`. */
  file: string;
  /** The file's text, byte for byte. */
  text: string;
  kind: string;
  plural: string;
  group: string;
  version: string;
  /** `spec.versions[0].schema.openAPIV3Schema`. */
  schema: Schema;
}

export const CRD_DIR = 'crds';

/** Reads every `crds/*.yaml` in a stable order. */
export async function loadCrds(root: string): Promise<CrdSource[]> {
  const dir = path.join(root, CRD_DIR);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const out: CrdSource[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    out.push(describe(file, text));
  }
  return out;
}

function describe(file: string, text: string): CrdSource {
  const doc = parse(text) as {
    kind?: string;
    spec?: {
      group?: string;
      names?: { kind?: string; plural?: string };
      versions?: { name?: string; schema?: { openAPIV3Schema?: Schema } }[];
    };
  };
  const spec = doc.kind === 'CustomResourceDefinition' ? doc.spec : undefined;
  const versions = spec?.versions ?? [];
  const [version] = versions;
  const schema = version?.schema?.openAPIV3Schema;
  const { kind, plural } = spec?.names ?? {};
  const group = spec?.group;
  if (versions.length !== 1 || !schema || !kind || !plural || !group || !version?.name) {
    throw new Error(`${file}: not a CustomResourceDefinition with exactly one schema-carrying version`);
  }
  return { file, text, kind, plural, group, version: version.name, schema };
}

/** True when a schema is a metav1.LabelSelector copy. */
export function isLabelSelector(schema: Schema): boolean {
  const props = schema['properties'];
  if (typeof props !== 'object' || props === null) return false;
  const keys = Object.keys(props).sort();
  return keys.length === 2 && keys[0] === 'matchExpressions' && keys[1] === 'matchLabels';
}

/** Where a repeated fragment was found, and its schema (without its own `description`). */
interface Fragment {
  where: string;
  schema: Schema;
}

/**
 * Finds every LabelSelector and every `conditions[]` item schema across the CRDs and throws when
 * two copies differ: the copies are hand-maintained, so drift would be a silent API bug.
 * Returns the canonical copies, used to generate the shared TypeScript types.
 */
export function sharedFragments(crds: CrdSource[]): { labelSelector: Schema; condition: Schema } {
  const selectors: Fragment[] = [];
  const conditions: Fragment[] = [];
  const walk = (schema: Schema, where: string): void => {
    if (isLabelSelector(schema)) {
      selectors.push({ where, schema: withoutDescription(schema) });
      return;
    }
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const [name, child] of Object.entries(props)) {
      if (name === 'conditions' && child['type'] === 'array') {
        conditions.push({ where: `${where}.${name}`, schema: child['items'] as Schema });
        continue;
      }
      walk(child, `${where}.${name}`);
    }
    const items = schema['items'];
    if (typeof items === 'object' && items !== null) walk(items as Schema, `${where}[]`);
  };
  for (const crd of crds) walk(crd.schema, crd.kind);
  const labelSelector = same('LabelSelector', selectors);
  const condition = same('Condition', conditions);
  return { labelSelector, condition };
}

function withoutDescription(schema: Schema): Schema {
  const { description: _omit, ...rest } = schema;
  return rest;
}

function same(name: string, found: Fragment[]): Schema {
  const first = found[0];
  if (!first) throw new Error(`no ${name} schema found in ${CRD_DIR}/`);
  for (const other of found.slice(1)) {
    if (!isDeepStrictEqual(first.schema, other.schema)) {
      throw new Error(`${name} schema at ${other.where} differs from the one at ${first.where}; keep the copies identical`);
    }
  }
  return first.schema;
}
