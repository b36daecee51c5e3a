// A real kube-apiserver + etcd for tests and for `make dev` (the envtest approach).
export { resolveAssets, type ControlPlaneAssets, type ResolveAssetsOptions } from './assets.ts';
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
export { applyCrds, readCrds } from './crds.ts';
export {
  createServiceAccountKubeConfig,
  isConflict,
  isNotFound,
  loadKubeConfig,
  renderKubeconfig,
  writeKubeconfig,
  type KubeconfigSpec,
  type ServiceAccountKubeConfig,
} from './kubeconfig.ts';
export { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
