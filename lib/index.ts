// The one entry point of the library: notebooks, the CLI and the tests import "mnist-lab" (this file, built).
// tfjs-core is re-exported so a notebook needs no second import to dispose or type a tensor.
export * as tf from "@tensorflow/tfjs-core";
export * from "./errors";
export * from "./model";
export * from "./model_summary";
export * from "./paths";
export * from "./idx";
export * from "./data";
export * from "./random";
export * from "./preprocess";
export * from "./plots";
export * from "./evaluate";
export * from "./evaluation_plots";
export * from "./tables";
export * from "./digits";
export * from "./display";
export * from "./dataset_summary";
export * from "./profiles";
export * from "./training_views";
export * from "./report_observations";
export * from "./report";
export * from "./atomic_file";
export * from "./augment";
export * from "./callbacks";
export * from "./model_io";
export * from "./runs";
export * from "./train";
