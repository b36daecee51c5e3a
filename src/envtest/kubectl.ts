import { spawn } from 'node:child_process';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Resolve with the result instead of rejecting when kubectl exits non-zero. */
  allowFailure?: boolean;
  /** Use this kubeconfig instead of the control plane's admin one. */
  kubeconfigPath?: string;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Run `kubectl --kubeconfig=FILE ARGS...`, collecting output; rejects on failure unless allowed. */
export function runKubectl(
  kubectl: string,
  kubeconfigPath: string,
  args: string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, [`--kubeconfig=${options.kubeconfigPath ?? kubeconfigPath}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const result = { stdout, stderr, code };
      if (code === 0 || options.allowFailure) resolve(result);
      else reject(new Error(`kubectl ${args.join(' ')} exited ${String(code)}: ${stderr.trim()}`));
    });
    child.stdin.end(options.input ?? '');
  });
}
