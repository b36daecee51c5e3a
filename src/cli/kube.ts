/**
 * The few API calls the plugin makes, behind a small interface so commands take it as a
 * dependency. The implementation uses @kubernetes/client-node: KubeConfig resolves KUBECONFIG,
 * --kubeconfig and --context exactly as kubectl does (exec and token-file credentials included).
 */
import {
  ApiException,
  AuthenticationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { GROUP, VERSION, type ObjectMeta, type Plural } from './api.ts';
import { CliError, Exit } from './exit.ts';

export interface KubeObject {
  metadata: ObjectMeta;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
}

/** What the commands need from the API server. Errors are thrown as {@link CliError}. */
export interface CliKube {
  /** The namespace from -n, else the context's namespace, else "default". */
  readonly namespace: string;
  get<T extends KubeObject>(plural: Plural, namespace: string, name: string): Promise<T | undefined>;
  /** All objects in `namespace`, or in every namespace when it is undefined. */
  list<T extends KubeObject>(plural: Plural, namespace: string | undefined): Promise<{ items: T[]; resourceVersion: string }>;
  create<T extends KubeObject>(plural: Plural, namespace: string, body: T): Promise<T>;
  /** RFC 7386 JSON merge patch. */
  mergePatch<T extends KubeObject>(plural: Plural, namespace: string, name: string, patch: unknown): Promise<T>;
  /** Resolves false when it was already gone. */
  delete(plural: Plural, namespace: string, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean>;
  /**
   * Watches one object by name from `resourceVersion` until the server closes the stream (resolves),
   * `signal` aborts (resolves) or the watch fails (rejects; status 410 when the version is too old).
   */
  watch(
    plural: Plural,
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** The authenticated user (SelfSubjectReview, like `kubectl auth whoami`). */
  whoami(): Promise<UserInfo>;
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Loads the kubeconfig the way kubectl does and returns the API for the commands. */
export function connect(options: ConnectOptions): CliKube {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) {
      if (!kc.getContextObject(options.context)) throw new Error(`context "${options.context}" not found in kubeconfig`);
      kc.setCurrentContext(options.context);
    }
  } catch (error) {
    throw new CliError(Exit.Usage, `cannot load kubeconfig: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!kc.getCurrentCluster()) throw new CliError(Exit.Usage, 'kubeconfig has no current cluster (set a context)');
  const namespace = options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return new ClientNodeKube(kc, namespace);
}

/** A client-node ApiException (or a watch failure) as a CliError with the right exit code. */
export function toCliError(error: unknown, what: string): CliError {
  if (error instanceof CliError) return error;
  const code = statusCode(error);
  const message = serverMessage(error) ?? (error instanceof Error ? error.message : String(error));
  if (code === 404) return new CliError(Exit.NotFoundOrForbidden, `${what}: not found`, { cause: error });
  if (code === 401 || code === 403) return new CliError(Exit.NotFoundOrForbidden, `${what}: ${message}`, { cause: error });
  if (code === 400 || code === 422) return new CliError(Exit.Usage, `${what}: ${message}`, { cause: error });
  return new CliError(Exit.Error, `${what}: ${message}`, { cause: error });
}

/** HTTP status of a failed call, if any. */
export function statusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (error && typeof error === 'object' && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

function serverMessage(error: unknown): string | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

class ClientNodeKube implements CliKube {
  readonly namespace: string;
  readonly #kc: KubeConfig;
  readonly #custom: CustomObjectsApi;

  constructor(kc: KubeConfig, namespace: string) {
    this.#kc = kc;
    this.namespace = namespace;
    this.#custom = kc.makeApiClient(CustomObjectsApi);
  }

  async get<T extends KubeObject>(plural: Plural, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace, name })) as T;
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw toCliError(error, `get ${plural} ${namespace}/${name}`);
    }
  }

  async list<T extends KubeObject>(plural: Plural, namespace: string | undefined): Promise<{ items: T[]; resourceVersion: string }> {
    try {
      const list = (namespace === undefined
        ? await this.#custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
        : await this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace })) as {
        items?: T[];
        metadata?: { resourceVersion?: string };
      };
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    } catch (error) {
      throw toCliError(error, `list ${plural}${namespace === undefined ? '' : ` in ${namespace}`}`);
    }
  }

  async create<T extends KubeObject>(plural: Plural, namespace: string, body: T): Promise<T> {
    // Errors are left to the caller: an AlreadyExists is part of the re-run logic.
    return (await this.#custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural,
      namespace,
      body,
      fieldManager: 'kubectl-agentid',
    })) as T;
  }

  async mergePatch<T extends KubeObject>(plural: Plural, namespace: string, name: string, patch: unknown): Promise<T> {
    try {
      return (await this.#custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural, namespace, name, body: patch, fieldManager: 'kubectl-agentid' },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as T;
    } catch (error) {
      throw toCliError(error, `patch ${plural} ${namespace}/${name}`);
    }
  }

  async delete(
    plural: Plural,
    namespace: string,
    name: string,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): Promise<boolean> {
    try {
      await this.#custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural,
        namespace,
        name,
        ...(preconditions ? { body: { preconditions } } : {}),
      });
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw toCliError(error, `delete ${plural} ${namespace}/${name}`);
    }
  }

  async watch(
    plural: Plural,
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
    // client-node aborts a watch after 30 s without data; asking the server to end it sooner
    // (and to send bookmarks) keeps every close a clean one we simply resume from.
    const query = {
      fieldSelector: `metadata.name=${name}`,
      allowWatchBookmarks: true,
      timeoutSeconds: 20,
      ...(resourceVersion ? { resourceVersion } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      let controller: AbortController | undefined;
      const onAbort = (): void => {
        controller?.abort();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      new Watch(this.#kc)
        .watch(
          path,
          query,
          (type, object) => onEvent({ type: type as WatchEvent['type'], object: object as Record<string, unknown> }),
          (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            if (error && !signal.aborted) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
            else resolve();
          },
        )
        .then((c) => {
          controller = c;
          if (signal.aborted) c.abort();
        }, reject);
    });
  }

  async whoami(): Promise<UserInfo> {
    try {
      const review = await this.#kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      const user = review.status?.userInfo;
      if (!user?.username) throw new CliError(Exit.Error, 'the API server did not say who you are (SelfSubjectReview)');
      return { username: user.username, ...(user.uid ? { uid: user.uid } : {}), ...(user.groups ? { groups: user.groups } : {}) };
    } catch (error) {
      throw toCliError(error, 'who am I (SelfSubjectReview)');
    }
  }
}
