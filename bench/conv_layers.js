// Microbenchmark: GFLOP/s of each conv of the report's CNN (batch 86) through the addon, forward and both backward passes.
// Run after `npm run build:native && npm run build`: node bench/conv_layers.js
const { loadNativeBinding } = require("mnist-lab");
const b = loadNativeBinding().binding;
const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const layers = [
  ["conv1 5x5 valid 1->64", [86, 28, 28, 1, 24, 24, 64, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0]],
  ["conv2 5x5 valid 64->64", [86, 24, 24, 64, 20, 20, 64, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0]],
  ["conv3 5x5 same 64->64", [86, 10, 10, 64, 10, 10, 64, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2]],
  ["conv4 3x3 same 64->64", [86, 10, 10, 64, 10, 10, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]],
  ["conv5 3x3 same 64->64", [86, 5, 5, 64, 5, 5, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]],
];
function ms(f) {
  f();
  f();
  const t = performance.now();
  for (let i = 0; i < 10; i++) f();
  return (performance.now() - t) / 10;
}
for (const [name, p] of layers) {
  const [n, ih, iw, ic, oh, ow, oc, kh, kw] = p;
  const x = rnd(n * ih * iw * ic),
    w = rnd(kh * kw * ic * oc),
    dy = rnd(n * oh * ow * oc);
  const y = new Float32Array(dy.length),
    dx = new Float32Array(x.length),
    dw = new Float32Array(w.length);
  const gflop = (2 * n * oh * ow * oc * kh * kw * ic) / 1e9;
  const f = ms(() => b.conv2dForward(x, w, null, y, p, 0, 0));
  const d = ms(() => b.conv2dBackwardData(dy, w, dx, p));
  const g = ms(() => b.conv2dBackwardFilter(x, dy, dw, p));
  const r = (t) => `${t.toFixed(2)} ms (${(gflop / (t / 1000)).toFixed(0)} GFLOP/s)`;
  console.log(`${name.padEnd(24)} fwd ${r(f)}  bwd-data ${r(d)}  bwd-filter ${r(g)}`);
}
