// The one entry point of the library: notebooks, the CLI and the tests import "mnist-lab" (this file, built).
// It lists by name what they use, in the order of the flow (docs/ARCHITECTURE.md); anything else stays inside lib/.
// tfjs-core and tfjs-layers are re-exported so a notebook needs no second import to dispose or type a tensor.
export * as tf from "@tensorflow/tfjs-core";
export * as tfl from "@tensorflow/tfjs-layers";

// Shared: errors, paths, atomic files, checksummed folders, the run lock, seeded random, machine facts.
export { makeDirs, removeStaleTemps, replaceDirAtomic, writeDirAtomic, writeFileAtomic } from "./shared/atomic_file";
export { CHECKSUMS_FILE, writeCheckedDir } from "./shared/checked_dir";
export { describeValue, fsErrorCode, fsErrorReason, invalidParameterError, MnistLabError } from "./shared/errors";
export { machineInfo } from "./shared/machine";
export { defaultForensicsDir, defaultReportsDir, defaultResultsDir, defaultRunsDir, projectRoot } from "./shared/paths";
export { permutation, Rng, shuffleInPlace } from "./shared/random";
export { LOCK_FOREIGN_STALE_MS, lockRun, RunBusyError } from "./shared/run_lock";

// The compute backend: selection, the onednn backend, its native binding and kernels.
export {
  BACKEND_CHAIN,
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  BufferPool,
  checkNativeEnums,
  checkNativeFunctions,
  type ConvGeometry,
  type ConvPrecision,
  DROPOUT,
  formatBackendDiagnostics,
  getKernelCallCounts,
  initBackend,
  type KerasAdamUpdateAttrs,
  type KerasRmspropUpdateAttrs,
  loadNativeBinding,
  type MatMulGeometry,
  NATIVE_FUNCTION_NAMES,
  type NativeBinding,
  nativeKernelNames,
  OnednnBackend,
  onednnHasBf16,
  type PoolGeometry,
  resetKernelCallCounts,
  setConvPrecision,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
} from "./backend";

// Data: MNIST's files, checks, scaling, one-hot, batches and splits.
export { classCounts, loadMnist, MNIST_FILES, MNIST_TEST_IMAGES, MNIST_TRAIN_IMAGES, resolveMnistDir } from "./data/data";
export { formatMnistSummary, summarizeMnist } from "./data/dataset_summary";
export { encodeIdx, gunzipIfNeeded, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, isGzip, parseIdx } from "./data/idx";
export {
  formatShape,
  gatherBatch,
  hasNaN,
  missingValueCount,
  nanCheckLine,
  pixelFrame,
  scaleToUnit,
  selectImages,
  splitTrainValidation,
  toImageTensor,
  toOneHot,
  toOneHotTensor,
} from "./data/preprocess";

// The model: the report's CNN, the notebook's model, its loss, files, predictions.
export { kerasCategoricalCrossentropy, LOSSES, recordSoftmaxLogits, softmaxCrossEntropyWithLogits } from "./model/loss";
export {
  buildReportCnn,
  compareArchitectures,
  compileReportCnn,
  predictLean,
  REPORT_CNN_DEFAULTS,
  REPORT_CNN_PARAMS,
  REPORT_PADDING_READING,
  paddingReadingName,
  paddingReadings,
  paddingsOfReading,
  topologySha256,
} from "./model/model";
export { loadModelDir, loadWeightsIntoModel, optimizerStateToFiles, restoreOptimizerState, saveModelDir } from "./model/model_io";
export { estimateParameters, MAX_MODEL_PARAMETERS } from "./model/model_size";
export { modelSummaryFrame, modelSummaryRows, modelSummaryText, parameterCounts } from "./model/model_summary";
export {
  comparisonScope,
  type KerasTopology,
  loadNotebookModel,
  modelSpecFromTopology,
  type ModelVariant,
  modelVariant,
  NOTEBOOK_MODEL_FILE,
  saveNotebookModel,
} from "./model/notebook_model";
export { confusionMatrix, evaluateModel, predictClasses } from "./model/predict";

// Training: optimizers, augmentation, callbacks, runs, the fit, profiles, the lab report's log.
export {
  type AffineParams,
  affineTransformImage,
  augmentBatch,
  augmentPreview,
  IDENTITY_AFFINE,
  REPORT_AUGMENTATION,
  sampleAffineParams,
} from "./training/augment";
export { reseedDropout } from "./training/batch_step";
export { FusedStep, trainBatch, trainingStepKind, type DropoutMultiplier, type StepOutcome } from "./training/fused_step";
export {
  BestModelCheckpoint,
  CsvLogger,
  EarlyStopping,
  EpochLogger,
  type EpochLogs,
  formatEpochLine,
  getLearningRate,
  historyToCsv,
  type LogSink,
  monitorValue,
  ReduceLROnPlateau,
  REPORT_REDUCE_LR,
  setLearningRate,
} from "./training/callbacks";
export { OPTIMIZER_LABELS, replayReportSchedule, REPORT_EPOCH_LOGS, REPORT_FINAL_ACCURACY, reportHistory } from "./training/lab_report_log";
export {
  KerasAdam,
  KerasRMSprop,
  KerasSGD,
  makeOptimizer,
  type OptimizerName,
  REPORT_OPTIMIZERS,
  type ReportOptimizer,
} from "./training/optimizers";
export { PROFILE_SETTINGS, profileRunConfig, PROFILES, profileTrainConfig, runDirFor, trainProfileRun } from "./training/profiles";
export {
  canonicalJson,
  listCheckpoints,
  listRuns,
  loadRun,
  parseHistoryCsv,
  type Precision,
  PRECISIONS,
  REPORT_TRAIN_DEFAULTS,
  resolveTrainConfig,
  runIdFor,
  SCHEDULES,
  type StoredRun,
  type TrainConfigInput,
} from "./training/runs";
export { parseStepsCsv, type StepLog } from "./training/steps";
export {
  evaluateSplit,
  type ExperimentConfigInput,
  type RunResult,
  TrainingInterrupted,
  trainModel,
  type TrainProgress,
  trainRun,
  type TrainRunOptions,
} from "./training/train";

// Evaluation: confusion, results, reproduction, experiments, forensics, sweeps (here and on Slurm).
export {
  compareConfusions,
  misclassificationCaption,
  misclassified,
  mostConfusedUnorderedPairs,
  pairConfusion,
  perClassMetrics,
} from "./evaluation/confusion";
export { experimentBase, experimentFrame, experimentSettings, experimentVerdict, runExperiments } from "./evaluation/experiments";
export { evaluateFinishedRun, type FinishedRun, loadFinishedRun, loadRunModel } from "./evaluation/finished_runs";
export { EARLIER_PADDING, EARLIER_PADDING_READING, FORENSIC_STUDIES, type ForensicStudy, studyRuns } from "./evaluation/forensic_studies";
export {
  controlVerdict,
  detectCollapse,
  fitHeadStart,
  fittedHeadStart,
  forensicVerdicts,
  lossVerdict,
  loadStudy,
  logsAfterOffset,
  paddingFinalists,
  paddingFrame,
  paddingVerdict,
  rankCandidates,
  rankingStrength,
  rankingVerdict,
  recipeCollapseCheck,
  recipeFirstEpochs,
  recipeHeadStartCheck,
  recipeLossRanking,
  reenactVerdict,
  wilsonInterval,
  withinReach,
} from "./evaluation/forensics";
export { accuracyComparisonFrame, checkReportObservations, observationFrame, profileScope } from "./evaluation/lab_report_observations";
export {
  confusedPairVerdicts,
  earlyEpochComparison,
  epochBand,
  groupMachines,
  optimizerComparison,
  partitionResults,
  recipeComparison,
  recipeOf,
  reproductionVerdicts,
  runResultsFrame,
  seedGroupFrame,
  seedGroups,
  singleValueTest,
  spread,
  topConfusedPairCounts,
  welchDiffer,
  welchGreater,
} from "./evaluation/reproduction";
export { exportRunResult, listRunResults, readRunResult, type RunResultSummary } from "./evaluation/results";
export {
  checkSlurmTime,
  newSlurmSweepDir,
  planSlurmSweep,
  readSlurmPlan,
  requeueThisSlurmTask,
  SLURM_REQUEUE_SIGNAL,
  slurmBatchScript,
  slurmSweepStatus,
  submitSlurmSweep,
} from "./evaluation/slurm";
export {
  runSweepEntry,
  sweepEntries,
  sweepEntryExported,
  sweepEntryProgress,
  sweepExportsResults,
  type SweepSpec,
} from "./evaluation/sweep";

// The notebooks' side: figures, tables, displays, notebook runs and the HTML report.
export { CELL_INTERRUPTED_LINE } from "./notebook/cell_interrupts";
export { digitGridHtml, digitPng } from "./notebook/digits";
export {
  inNotebook,
  progressDisplay,
  showDigits,
  showFigure,
  showFrame,
  showHtml,
  showProfileScope,
  type TaskProgress,
  withProgress,
} from "./notebook/display";
export {
  colorAt,
  confusionDifferenceFigure,
  confusionHeatmapFigure,
  DIVERGING_COLORSCALE,
  historySeries,
  learningRateFigure,
  seedBandFigure,
  trainingCurvesFigure,
  YLGNBU_COLORSCALE,
} from "./notebook/evaluation_plots";
export { headStartFigure, rollingAccuracyFigure } from "./notebook/forensic_figures";
export { buildHtmlReport, prepareReportDir, type ReportResult } from "./notebook/html_report";
export {
  declaredParameters,
  executeNotebook,
  jupyterEnv,
  KERNEL_NAME,
  listNotebooks,
  nbtoolCommand,
  NotebookCellError,
  notebookParameterAssignments,
  parameterAssignments,
  selectNotebooks,
} from "./notebook/notebook_run";
export { classDistributionFigure, figureHtml, PLOTLY_STATIC_PATH } from "./notebook/plots";
export { classCountFrame, escapeHtml, frameHtml, frameMarkdown } from "./notebook/tables";
export { historyLogLines, previewGrid, printRunLog, runSummaryFrame } from "./notebook/training_views";

// Diagnostics: the benchmark against PyTorch.
export {
  defaultPytorchScript,
  formatBenchTable,
  kernelTable,
  type KernelRow,
  profileTrainingStep,
  runBench,
  type StepSplit,
} from "./diagnostics/bench";
