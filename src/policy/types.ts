/**
 * Minimal input shapes for the policy engine, copied from the ConsentPolicy CRD field names
 * (API.md, agentidentity.dev/v1alpha1). Every field is optional where the CRD lets it be absent,
 * so objects read from the API server (defaults applied or not) can be passed as they are.
 */

/** A Kubernetes `metav1.LabelSelectorRequirement`. */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** A Kubernetes `metav1.LabelSelector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Sensitivity along the `access` dimension, least to most sensitive. */
export type AccessLevel = 'read' | 'write' | 'admin';
/** Sensitivity along the `environment` dimension, least to most sensitive. */
export type EnvironmentLevel = 'nonprod' | 'prod';
/** Sensitivity along the `data` dimension, least to most sensitive. */
export type DataLevel = 'internal' | 'external';
/** A sensitivity dimension a ConsentPolicy can name in `consent.fullReconsentOn`. */
export type Dimension = 'access' | 'environment' | 'data';

/** A scope's sensitivity class: one level per dimension. */
export interface ScopeClass {
  access: AccessLevel;
  environment: EnvironmentLevel;
  data: DataLevel;
}

/** One `spec.scopeClasses` entry; a dimension left out falls back to `defaultClass`. */
export interface ScopeClassRule {
  pattern: string;
  access?: AccessLevel;
  environment?: EnvironmentLevel;
  data?: DataLevel;
}

/** `spec` of a ConsentPolicy. */
export interface ConsentPolicySpec {
  namespaceSelector?: LabelSelector;
  selector?: LabelSelector;
  allowedScopes?: string[];
  scopeClasses?: ScopeClassRule[];
  defaultClass?: Partial<ScopeClass>;
  consent?: {
    deltaConsent?: boolean;
    fullReconsentOn?: Dimension[];
  };
  standing?: {
    accessTokenTTL?: string;
    refreshTokenTTL?: string;
  };
  taskScoped?: {
    scopes?: string[];
    accessTokenTTL?: string;
    singleUseRefresh?: boolean;
    sessionBinding?: boolean;
  };
}

/** A ConsentPolicy as the engine needs it: its (cluster-scoped) name and its spec. */
export interface PolicyInput {
  name: string;
  spec: ConsentPolicySpec;
}
