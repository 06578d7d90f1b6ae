// Public API of the backend module: selection, the onednn backend and its diagnostics.
export { BACKEND_CHAIN, backendThreads, formatBackendDiagnostics, initBackend } from "./select";
export type { BackendCandidate, BackendName, BackendDiagnostics } from "./select";
export { ONEDNN_BACKEND_NAME, OnednnBackend, releasePooledMemory, runFusedUpdate, setConvPrecision } from "./onednn_backend";
export { getKernelCallCounts, nativeKernelNames, registerOnednnBackend, resetKernelCallCounts } from "./register_onednn";
export type { KernelCallCounts } from "./register_onednn";
export {
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  DROPOUT,
  KERAS_ADAM_UPDATE,
  KERAS_RMSPROP_UPDATE,
  RELU_GRAD,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
} from "./kernels";
export { BufferPool } from "./buffer_pool";
export {
  NATIVE_ENUM_NAMES,
  NATIVE_FUNCTION_NAMES,
  checkNativeEnums,
  checkNativeFunctions,
  loadNativeBinding,
  onednnHasBf16,
  onednnIsaName,
} from "./native_binding";
export type {
  ConvGeometry,
  ConvPrecision,
  KerasAdamUpdateAttrs,
  KerasRmspropUpdateAttrs,
  MatMulGeometry,
  NativeBinding,
  NativeBindingResult,
  NativeEnums,
  NativeFunctionName,
  PoolGeometry,
} from "./native_binding";
