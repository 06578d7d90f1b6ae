// Public API of the backend module: selection, the onednn backend and its diagnostics.
export { BACKEND_CHAIN, formatBackendReport, initBackend } from "./select";
export type { BackendCandidate, BackendName, BackendReport } from "./select";
export {
  ONEDNN_BACKEND_NAME,
  OnednnBackend,
  getKernelCallCounts,
  nativeKernelNames,
  registerOnednnBackend,
  releasePooledMemory,
  resetKernelCallCounts,
} from "./onednn_backend";
export type { KernelCallCounts } from "./onednn_backend";
export { BufferPool } from "./buffer_pool";
export { loadNativeBinding } from "./native_binding";
export type { NativeBinding, NativeBindingResult } from "./native_binding";
