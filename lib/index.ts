// The one entry point of the library: notebooks, the CLI and the tests import "mnist-lab" (this file, built).
export * from "./errors";
export * from "./model";
export * from "./paths";
export * from "./idx";
export * from "./data";
export * from "./random";
export * from "./preprocess";
export * from "./plots";
export * from "./tables";
export * from "./digits";
export * from "./display";
export * from "./dataset_summary";
export * from "./report";
export * from "./atomic_file";
