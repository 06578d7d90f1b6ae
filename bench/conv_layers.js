// Microbenchmark: GFLOP/s of each conv of the report's CNN (batch 86) through the addon, forward and both backward passes.
// Run after `npm run build:native && npm run build`: node bench/conv_layers.js
const tf = require("@tensorflow/tfjs-core");
const { loadNativeBinding } = require("mnist-lab");
const b = loadNativeBinding().binding;
const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
// [name, input NHWC, filter HWIO, padding]; the geometry is tfjs's own Conv2DInfo, as the backend passes it.
const layers = [
  ["conv1 5x5 valid 1->64", [86, 28, 28, 1], [5, 5, 1, 64], "valid"],
  ["conv2 5x5 valid 64->64", [86, 24, 24, 64], [5, 5, 64, 64], "valid"],
  ["conv3 5x5 same 64->64", [86, 10, 10, 64], [5, 5, 64, 64], "same"],
  ["conv4 3x3 same 64->64", [86, 10, 10, 64], [3, 3, 64, 64], "same"],
  ["conv5 3x3 same 64->64", [86, 5, 5, 64], [3, 3, 64, 64], "same"],
];
function ms(f) {
  f();
  f();
  const t = performance.now();
  for (let i = 0; i < 10; i++) f();
  return (performance.now() - t) / 10;
}
const linear = b.enums.activation.linear;
for (const [name, xShape, wShape, pad] of layers) {
  const c = tf.backend_util.computeConv2DInfo(xShape, wShape, 1, 1, pad);
  const x = rnd(xShape.reduce((p, d) => p * d, 1)),
    w = rnd(wShape.reduce((p, d) => p * d, 1)),
    dy = rnd(c.outShape.reduce((p, d) => p * d, 1));
  const y = new Float32Array(dy.length),
    dx = new Float32Array(x.length),
    dw = new Float32Array(w.length);
  const gflop = (2 * c.batchSize * c.outHeight * c.outWidth * c.outChannels * c.filterHeight * c.filterWidth * c.inChannels) / 1e9;
  const f = ms(() => b.conv2dForward(x, w, null, y, c, linear, 0));
  const d = ms(() => b.conv2dBackwardData(dy, w, dx, c));
  const g = ms(() => b.conv2dBackwardFilter(x, dy, dw, c));
  const r = (t) => `${t.toFixed(2)} ms (${(gflop / (t / 1000)).toFixed(0)} GFLOP/s)`;
  console.log(`${name.padEnd(24)} fwd ${r(f)}  bwd-data ${r(d)}  bwd-filter ${r(g)}`);
}
