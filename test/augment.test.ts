import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IDENTITY_AFFINE,
  REPORT_AUGMENTATION,
  Rng,
  affineTransformImage,
  augmentBatch,
  augmentPreview,
  sampleAffineParams,
  type AffineParams,
} from "mnist-lab";

const H = 28;
const W = 28;
const CENTRE = 13.5;

function image(f: (r: number, c: number) => number): Float32Array {
  const out = new Float32Array(H * W);
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) out[r * W + c] = f(r, c);
  return out;
}

function warp(src: Float32Array, params: Partial<AffineParams>): Float32Array {
  const dst = new Float32Array(H * W);
  affineTransformImage(src, 0, dst, 0, { ...IDENTITY_AFFINE, ...params });
  return dst;
}

function assertClose(actual: number, expected: number, where: string, tol = 1e-4): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${where}: expected ${expected} but found ${actual}`);
}

const noise = (seed: number) => {
  const rng = new Rng(seed);
  return image(() => rng.next());
};

test("affineTransformImage identity parameters return the input exactly", () => {
  const src = noise(1);
  assert.deepEqual(warp(src, {}), src);
  // A full turn is the identity too, up to rounding of sin/cos.
  const turned = warp(src, { thetaDegrees: 360 });
  for (let i = 0; i < src.length; i++) assertClose(turned[i], src[i], `pixel ${i}`);
});

test("affineTransformImage shift tx=+3 moves the content 3 rows up and fills with the nearest edge", () => {
  const src = noise(2);
  const out = warp(src, { tx: 3 });
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) assertClose(out[r * W + c], src[Math.min(r + 3, H - 1) * W + c], `(${r},${c})`, 1e-6);
  }
  // ty shifts columns the same way: content 2 columns left, the right edge column repeated.
  const out2 = warp(src, { ty: -2 });
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) assertClose(out2[r * W + c], src[r * W + Math.max(c - 2, 0)], `(${r},${c})`, 1e-6);
  }
});

test("affineTransformImage rotation by 90 degrees takes a pixel above the centre to the right of it", () => {
  // Pixel (8, 13) is 5.5 rows above and 0.5 columns left of the centre (13.5, 13.5).
  const src = image((r, c) => (r === 8 && c === 13 ? 1 : 0));
  const out = warp(src, { thetaDegrees: 90 });
  // Keras (scipy era) maps output (r, c) to input R·(r − o, c − o) + o, so the pixel lands at (13, 19).
  assertClose(out[13 * W + 19], 1, "(13,19)", 1e-6);
  let total = 0;
  for (const v of out) total += v;
  assertClose(total, 1, "mass", 1e-6);
});

test("affineTransformImage rotation, zoom and shift reproduce a linear ramp exactly (bilinear, about the centre)", () => {
  // Bilinear interpolation is exact on linear images, so each output pixel must equal the ramp at the
  // input point Keras's matrix sends it to: in = R·(Z·(out − o) + t) + o.
  const ramp = image((r, c) => 0.3 * r + 0.7 * c);
  const p = { thetaDegrees: 7, tx: 1.2, ty: -0.8, zx: 0.93, zy: 1.06 };
  const out = warp(ramp, p);
  const th = (p.thetaDegrees * Math.PI) / 180;
  let checked = 0;
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const u = p.zx * (r - CENTRE) + p.tx;
      const v = p.zy * (c - CENTRE) + p.ty;
      const inR = Math.cos(th) * u - Math.sin(th) * v + CENTRE;
      const inC = Math.sin(th) * u + Math.cos(th) * v + CENTRE;
      if (inR < 0 || inR > H - 1 || inC < 0 || inC > W - 1) continue; // edge-filled: checked elsewhere
      assertClose(out[r * W + c], 0.3 * inR + 0.7 * inC, `(${r},${c})`);
      checked++;
    }
  }
  assert.ok(checked > 600, `only ${checked} interior pixels checked`);
});

test("affineTransformImage zoom 2 halves the content about the centre", () => {
  // A bright ring of radius 8 becomes a ring of radius 4 (zx = zy = 2 samples twice as far out).
  const ring = image((r, c) => Math.max(0, 1 - Math.abs(Math.hypot(r - CENTRE, c - CENTRE) - 8)));
  const out = warp(ring, { zx: 2, zy: 2 });
  const radiusOfMax = (img: Float32Array) => {
    let best = 0;
    let at = 0;
    for (let c = 14; c < W; c++) if (img[14 * W + c] > best) [best, at] = [img[14 * W + c], c];
    return at - CENTRE;
  };
  assert.equal(radiusOfMax(ring), 7.5);
  assert.equal(radiusOfMax(out), 3.5);
});

test("sampleAffineParams stays in the report's Keras ranges and covers them", () => {
  const rng = new Rng(4);
  const params = Array.from({ length: 20_000 }, () => sampleAffineParams(rng));
  const range = (key: "thetaDegrees" | "tx" | "ty" | "zx" | "zy") => [
    Math.min(...params.map((p) => p[key])),
    Math.max(...params.map((p) => p[key])),
  ];
  const [tMin, tMax] = range("thetaDegrees");
  assert.ok(tMin >= -10 && tMax <= 10 && tMin < -9.9 && tMax > 9.9, `theta [${tMin}, ${tMax}]`);
  for (const key of ["tx", "ty"] as const) {
    const [lo, hi] = range(key);
    assert.ok(lo >= -2.8 && hi <= 2.8 && lo < -2.75 && hi > 2.75, `${key} [${lo}, ${hi}] (±0.1 × 28 pixels)`);
  }
  for (const key of ["zx", "zy"] as const) {
    const [lo, hi] = range(key);
    assert.ok(lo >= 0.9 && hi <= 1.1 && lo < 0.901 && hi > 1.099, `${key} [${lo}, ${hi}]`);
  }
  // zx and zy are drawn independently, as Keras does.
  assert.ok(params.some((p) => Math.abs(p.zx - p.zy) > 0.1));
  assert.deepEqual(REPORT_AUGMENTATION, {
    rotationRange: 10,
    zoomRange: 0.1,
    widthShiftRange: 0.1,
    heightShiftRange: 0.1,
    center: "keras-2.3",
  });
});

test("augmentBatch same seed gives the same output and another seed another", () => {
  const batch = new Float32Array(16 * H * W);
  for (let i = 0; i < 16; i++) batch.set(noise(100 + i), i * H * W);
  const a = augmentBatch(batch, 16, new Rng(42));
  const b = augmentBatch(batch, 16, new Rng(42));
  const c = augmentBatch(batch, 16, new Rng(43));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a.subarray(0, 784), batch.subarray(0, 784));
  // Each image gets its own transform: image 0 and 1 of a batch of equal images differ.
  const same = new Float32Array(2 * H * W);
  same.set(noise(7), 0);
  same.set(noise(7), H * W);
  const d = augmentBatch(same, 2, new Rng(1));
  assert.notDeepEqual(d.subarray(0, 784), d.subarray(784));
});

test("augmentBatch with every range 0 returns the input, and rejects bad ranges", () => {
  const batch = noise(8);
  const out = augmentBatch(batch, 1, new Rng(1), { rotationRange: 0, zoomRange: 0, widthShiftRange: 0, heightShiftRange: 0 });
  assert.deepEqual(out, batch);
  assert.throws(
    () => augmentBatch(batch, 1, new Rng(1), { zoomRange: -0.1 }),
    /Expected a finite number ≥ 0 for augmentation zoomRange but found number -0.1/,
  );
  assert.throws(() => augmentBatch(batch, 2, new Rng(1)), /Expected at least 2 × 784 values for augmentBatch images/);
});

test("augmentPreview returns the chosen originals scaled to [0, 1] and seeded variants", () => {
  const images = new Uint8Array(3 * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 13) % 256;
  const p = augmentPreview(images, { indices: [2, 0], variants: 4, seed: 5 });
  assert.equal(p.originals.length, 2);
  assert.equal(p.augmented[0].length, 4);
  assertClose(p.originals[0][1], images[2 * 784 + 1] / 255, "scaled pixel", 1e-7);
  assert.deepEqual(warp(p.originals[1], p.params[1][3]), p.augmented[1][3]);
  assert.deepEqual(augmentPreview(images, { indices: [2, 0], variants: 4, seed: 5 }).augmented, p.augmented);
  assert.throws(
    () => augmentPreview(images, { indices: [3] }),
    /Expected an image index in \[0, 3\) for augmentPreview index but found number 3/,
  );
});

test("affineTransformImage center keras-2.3 zooms about (h/2 + 0.5) and keras-2.9 about the grid's centre", () => {
  const ramp = image((r) => r);
  // input row = o + zx·(output row − o): the fixed point o is 14.5 (Keras 2.3) or 13.5 (Keras ≥ 2.9).
  const legacy = warp(ramp, { zx: 2, center: "keras-2.3" });
  const modern = warp(ramp, { zx: 2, center: "keras-2.9" });
  assertClose(legacy[14 * W + 5], 13.5, "keras-2.3 row 14");
  assertClose(modern[14 * W + 5], 14.5, "keras-2.9 row 14");
  assertClose(legacy[10 * W + 5], 14.5 + 2 * (10 - 14.5), "keras-2.3 row 10");
  assert.equal(sampleAffineParams(new Rng(1)).center, "keras-2.3");
  assert.equal(sampleAffineParams(new Rng(1), { center: "keras-2.9" }).center, "keras-2.9");
  assert.throws(
    () => augmentBatch(ramp, 1, new Rng(1), { center: "middle" as "keras-2.3" }),
    /Expected "keras-2.3" or "keras-2.9" for augmentation center but found "middle"/,
  );
});
