export { exportKubernetes, GENERATED_MARK, KubernetesExportError } from './k8s-export';
export type { KubernetesExport, KubernetesExportOptions, KubernetesFile } from './k8s-export';
export { writeKubernetesExport } from './k8s-write';
export type { KubernetesWriteResult } from './k8s-write';
