/**
 * Input shapes of the policy engine. The ConsentPolicy parts are the types generated from the CRD
 * (`src/api/v1alpha1`), so objects read from the API server are passed as they are; the engine
 * still tolerates values the schema should have rejected (an unknown selector operator, an
 * unknown level), because a CRD can be changed or bypassed.
 */
import type { ConsentPolicy, ConsentPolicySpec as GeneratedSpec, ConsentPolicySpecScopeClassesItem } from '../api/v1alpha1/index.ts';

/**
 * A Kubernetes `metav1.LabelSelectorRequirement`. `operator` is any string (not the generated
 * union) so that an unknown operator reaches the evaluator and becomes an error value.
 */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** A Kubernetes `metav1.LabelSelector` (the generated type is assignable to it). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** `spec` of a ConsentPolicy: the generated type, with lenient selectors (see above). */
export type ConsentPolicySpec = Omit<GeneratedSpec, 'namespaceSelector' | 'selector'> & {
  namespaceSelector?: LabelSelector;
  selector?: LabelSelector;
};

/** One `spec.scopeClasses` entry; a dimension left out falls back to `defaultClass`. */
export type ScopeClassRule = ConsentPolicySpecScopeClassesItem;

/** Sensitivity along the `access` dimension, least to most sensitive. */
export type AccessLevel = NonNullable<ScopeClassRule['access']>;
/** Sensitivity along the `environment` dimension, least to most sensitive. */
export type EnvironmentLevel = NonNullable<ScopeClassRule['environment']>;
/** Sensitivity along the `data` dimension, least to most sensitive. */
export type DataLevel = NonNullable<ScopeClassRule['data']>;
/** A sensitivity dimension a ConsentPolicy can name in `consent.fullReconsentOn`. */
export type Dimension = 'access' | 'environment' | 'data';

/** A scope's sensitivity class: one level per dimension. */
export interface ScopeClass {
  access: AccessLevel;
  environment: EnvironmentLevel;
  data: DataLevel;
}

/** A ConsentPolicy as the engine needs it: its (cluster-scoped) name and its spec. */
export interface PolicyInput {
  name: string;
  spec: ConsentPolicySpec;
}

/** The engine's view of a ConsentPolicy object read from the API server. */
export function policyInput(policy: Pick<ConsentPolicy, 'metadata' | 'spec'>): PolicyInput {
  return { name: policy.metadata.name ?? '', spec: policy.spec };
}
